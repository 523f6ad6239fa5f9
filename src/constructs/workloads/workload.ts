/**
 * Typed parts of the runtime's Kubernetes objects, from cdk8s-plus's Kubernetes API (its `k8s`
 * classes rather than its L2 workloads: those add selector labels that change when a construct
 * moves, and defaults that are not ours). Every pod they build meets the Pod Security Standards
 * "restricted" profile.
 */
import type { Construct } from 'constructs';
import { COMPONENT_LABEL, INSTANCE_LABEL, NAME_LABEL, PART_OF_LABEL } from '../../spec/annotations.ts';
import { k8s } from './kplus.ts';

// biome-ignore lint/suspicious/noExplicitAny: Seldon's pod specs are open JSON shapes
export type Json = Record<string, any>;

/** UID of the runtime image's user (the Dockerfile's numeric USER). */
export const RUNTIME_UID = 10001;
/**
 * Group shared by every container of a pod, so the agent's files are readable by the server; above
 * 10000 so it clashes with no group of the node.
 */
export const SHARED_GID = 10001;

export const PART_OF = 'cdk8s-mlops';

/** Labels of a component's pods; all three select them (stable: no construct paths or hashes). */
export function selectorLabels(component: string, instance: string): Record<string, string> {
  return { [NAME_LABEL]: 'mlops-runtime', [COMPONENT_LABEL]: component, [INSTANCE_LABEL]: instance };
}

export function podLabels(component: string, instance: string): Record<string, string> {
  return { ...selectorLabels(component, instance), [PART_OF_LABEL]: PART_OF };
}

/** CPU and memory of a container: requests and limits both set. */
export interface ResourceSettings {
  /** What the container is guaranteed, e.g. `{ cpu: '100m', memory: '256Mi' }`. */
  readonly requests: { readonly cpu: string; readonly memory: string };
  /** What it may use at most, e.g. `{ cpu: '1', memory: '512Mi' }`. */
  readonly limits: { readonly cpu: string; readonly memory: string };
}

const quantity = (value: string): k8s.Quantity => k8s.Quantity.fromString(value);

/** Local disk a container may use (logs, /tmp, and emptyDir volumes counted against its pod). */
export const EPHEMERAL_REQUEST = '64Mi';
export const EPHEMERAL_LIMIT = '512Mi';

/** Requests and limits; local disk is bounded too, so one pod cannot fill a node's disk. */
export function resources(r: ResourceSettings, ephemeralLimit = EPHEMERAL_LIMIT): k8s.ResourceRequirements {
  return {
    requests: {
      cpu: quantity(r.requests.cpu),
      memory: quantity(r.requests.memory),
      'ephemeral-storage': quantity(EPHEMERAL_REQUEST),
    },
    limits: {
      cpu: quantity(r.limits.cpu),
      memory: quantity(r.limits.memory),
      'ephemeral-storage': quantity(ephemeralLimit),
    },
  };
}

/** The container half of "restricted": no escalation, no capabilities, read-only root. */
export function restrictedContainerSecurity(runAsUser?: number): k8s.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    ...(runAsUser === undefined ? {} : { runAsUser }),
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** The pod half of "restricted". */
export function restrictedPodSecurity(runAsUser: number): k8s.PodSecurityContext {
  return {
    fsGroup: SHARED_GID,
    runAsGroup: SHARED_GID,
    runAsNonRoot: true,
    runAsUser,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** An HTTP GET probe of a named container port. */
export function httpProbe(path: string, port: string, overrides: Omit<k8s.Probe, 'httpGet'> = {}): k8s.Probe {
  return {
    httpGet: { path, port: k8s.IntOrString.fromString(port) },
    periodSeconds: 10,
    timeoutSeconds: 2,
    failureThreshold: 3,
    ...overrides,
  };
}

/** A preStop hook asking a container's admin endpoint to drain first. */
export function drainHook(port: string | number): k8s.Lifecycle {
  const p = typeof port === 'number' ? k8s.IntOrString.fromNumber(port) : k8s.IntOrString.fromString(port);
  return { preStop: { httpGet: { path: '/terminate', port: p } } };
}

export function port(name: string, containerPort: number): k8s.ContainerPort {
  return { name, containerPort, protocol: 'TCP' };
}

/** A writable scratch directory on an otherwise read-only root file system. */
export function tmpVolume(sizeLimit = '256Mi'): k8s.Volume {
  return { name: 'tmp', emptyDir: { sizeLimit: quantity(sizeLimit) } };
}
export const TMP_MOUNT: k8s.VolumeMount = { name: 'tmp', mountPath: '/tmp' };

export function fieldEnv(name: string, fieldPath: string): k8s.EnvVar {
  // Written as the apiserver stores it (fieldRef is atomic: a defaulted apiVersion would make the
  // object differ from its manifest, and conflict when server-side apply takes over).
  return { name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } };
}

/** Spread replicas of one component over nodes when the cluster can. */
export function spreadOverNodes(labels: Record<string, string>): k8s.Affinity {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: { labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' },
        },
      ],
    },
  };
}

export interface ServicePort {
  readonly name: string;
  readonly port: number;
  /** @default - the port's name (the container port of that name) */
  readonly targetPort?: string;
  /** e.g. `kubernetes.io/h2c` for plaintext gRPC. @default - none */
  readonly appProtocol?: string;
}

export function service(
  scope: Construct,
  id: string,
  name: string,
  selector: Record<string, string>,
  ports: readonly ServicePort[],
  options: { headless?: boolean; labels?: Record<string, string> } = {},
): k8s.KubeService {
  return new k8s.KubeService(scope, id, {
    metadata: { name, ...(options.labels ? { labels: options.labels } : {}) },
    spec: {
      ...(options.headless ? { clusterIp: 'None', publishNotReadyAddresses: true } : {}),
      selector,
      ports: ports.map((p) => ({
        name: p.name,
        port: p.port,
        protocol: 'TCP',
        targetPort: k8s.IntOrString.fromString(p.targetPort ?? p.name),
        ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
      })),
    },
  });
}

/** A PodDisruptionBudget letting one pod go at a time (and evicting pods that never got ready). */
export function disruptionBudget(
  scope: Construct,
  id: string,
  name: string,
  selector: Record<string, string>,
): k8s.KubePodDisruptionBudget {
  return new k8s.KubePodDisruptionBudget(scope, id, {
    metadata: { name },
    spec: {
      maxUnavailable: k8s.IntOrString.fromNumber(1),
      selector: { matchLabels: selector },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  });
}

/** A ConfigMap; `data` may be lazy (known once the app is complete). */
export function configMap(
  scope: Construct,
  id: string,
  name: string,
  data: Record<string, string>,
): k8s.KubeConfigMap {
  return new k8s.KubeConfigMap(scope, id, { metadata: { name }, data });
}
