/**
 * Typed builders of the plain Kubernetes objects the runtime needs (no cdk8s-plus: its
 * generated selector labels change when a construct moves, and its defaults are not ours).
 * Every pod they build meets the Pod Security Standards "restricted" profile.
 */
import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are open JSON shapes
export type Json = Record<string, any>;

/** UID of the runtime image's user (the Dockerfile's numeric USER). */
export const RUNTIME_UID = 10001;
/** Group shared by every container of a pod, so the agent's files are readable by the server. */
export const SHARED_GID = 1000;

export const PART_OF = 'cdk8s-mlops';
export const NAME_LABEL = 'app.kubernetes.io/name';
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
export const INSTANCE_LABEL = 'app.kubernetes.io/instance';
export const PART_OF_LABEL = 'app.kubernetes.io/part-of';

/** Labels of a component's pods; all three select them (stable: no construct paths or hashes). */
export function selectorLabels(component: string, instance: string): Record<string, string> {
  return { [NAME_LABEL]: 'mlops-runtime', [COMPONENT_LABEL]: component, [INSTANCE_LABEL]: instance };
}

export function podLabels(component: string, instance: string): Record<string, string> {
  return { ...selectorLabels(component, instance), [PART_OF_LABEL]: PART_OF };
}

/** CPU and memory of a container: requests and limits both set. */
export interface ResourceSettings {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

export function resources(r: ResourceSettings): Json {
  return {
    requests: { cpu: r.requests.cpu, memory: r.requests.memory },
    limits: { cpu: r.limits.cpu, memory: r.limits.memory },
  };
}

/** The container half of "restricted": no escalation, no capabilities, read-only root. */
export function restrictedContainerSecurity(runAsUser?: number): Json {
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
export function restrictedPodSecurity(runAsUser: number): Json {
  return {
    fsGroup: SHARED_GID,
    runAsGroup: SHARED_GID,
    runAsNonRoot: true,
    runAsUser,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export function httpProbe(path: string, port: string, overrides: Json = {}): Json {
  return { httpGet: { path, port }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3, ...overrides };
}

export function port(name: string, containerPort: number): Json {
  return { name, containerPort, protocol: 'TCP' };
}

/** A writable scratch directory on an otherwise read-only root file system. */
export const TMP_VOLUME: Json = { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } };
export const TMP_MOUNT: Json = { name: 'tmp', mountPath: '/tmp' };

export function fieldEnv(name: string, fieldPath: string): Json {
  return { name, valueFrom: { fieldRef: { fieldPath } } };
}

/** Spread replicas of one component over nodes when the cluster can. */
export function spreadOverNodes(labels: Record<string, string>): Json {
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

export function apiObject(
  scope: Construct,
  id: string,
  apiVersion: string,
  kind: string,
  name: string,
  body: Json,
): ApiObject {
  const { metadata, ...rest } = body;
  return new ApiObject(scope, id, { apiVersion, kind, metadata: { name, ...(metadata ?? {}) }, ...rest });
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
): ApiObject {
  return apiObject(scope, id, 'v1', 'Service', name, {
    metadata: options.labels ? { labels: options.labels } : undefined,
    spec: {
      ...(options.headless ? { clusterIP: 'None', publishNotReadyAddresses: true } : {}),
      selector,
      ports: ports.map((p) => ({
        name: p.name,
        port: p.port,
        protocol: 'TCP',
        targetPort: p.targetPort ?? p.name,
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
): ApiObject {
  return apiObject(scope, id, 'policy/v1', 'PodDisruptionBudget', name, {
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: selector },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  });
}
