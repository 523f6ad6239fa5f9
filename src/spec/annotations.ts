/**
 * Annotation and label keys that the synthesized manifests, the review tools and the runtime
 * must spell alike.
 */

/**
 * Annotation on an object listing what it references but the same manifests do not declare
 * (`Kind/name`, comma-separated), so reviews trust those references instead of reporting them.
 */
export const EXTERNAL_REFERENCES_ANNOTATION = 'review.cdk8s-mlops.io/external';

/** Set by the scheduler's users on a Server to choose how models are spread over its replicas. */
export const PLACEMENT_POLICY_ANNOTATION = 'mlops.cdk8s.io/placement-policy';

/** On the dataflow engine's pod template: a hash of its pipelines, so a change rolls the pods. */
export const CONFIG_HASH_ANNOTATION = 'mlops.cdk8s.io/config-hash';

/** kubectl's copy of the last applied object (noise in a diff; holds a Secret's values). */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

// Kubernetes' recommended labels, on every runtime object.
export const NAME_LABEL = 'app.kubernetes.io/name';
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
export const INSTANCE_LABEL = 'app.kubernetes.io/instance';
export const PART_OF_LABEL = 'app.kubernetes.io/part-of';

/** The label of a Server's pods that the scheduler reports as the Server's `status.selector`. */
export const SERVER_NAME_LABEL = 'seldon-server-name';

/**
 * Argo CD syncs lower waves first and waits for them to be healthy, so the definitions and
 * namespaces that other objects need go one wave ahead of them.
 */
export const ARGOCD_SYNC_WAVE_ANNOTATION = 'argocd.argoproj.io/sync-wave';
/** The wave of CustomResourceDefinitions and Namespaces (everything else is in wave 0). */
export const FOUNDATION_SYNC_WAVE = '-1';
