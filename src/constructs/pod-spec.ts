/**
 * Typed Kubernetes pod structures for Servers and ServerConfigs, plus the few edits Seldon's
 * conventions need (resources of the inference container, agent env).
 *
 * The types are derived from the Kubernetes API types of cdk8s-plus (`k8s.PodSpec` and friends),
 * so field names are checked by the compiler — a misspelt field is a type error — while the
 * values stay the plain JSON written in Seldon's YAML: quantities and int-or-string values are
 * strings or numbers, not `k8s.Quantity` objects. That keeps existing apps and the code
 * `mlops import` generates valid, and lets the Server's override be the subset Seldon's CRD takes.
 */
import type { k8s } from './workloads/kplus.ts';

/** A `k8s.Quantity` or `k8s.IntOrString` (a single `value` field); other shapes are not. */
type Scalar = k8s.Quantity | k8s.IntOrString;

/**
 * Field names cdk8s-plus spells differently from the Kubernetes JSON (its `toJson_*` functions
 * translate them): the plain types use the JSON names, as Seldon's CRDs do.
 */
interface JsonNames {
  clusterIp: 'clusterIP';
  datasetUuid: 'datasetUUID';
  diskUri: 'diskURI';
  externalId: 'externalID';
  hostIp: 'hostIP';
  hostIpc: 'hostIPC';
  hostPid: 'hostPID';
  insecureSkipTlsVerify: 'insecureSkipTLSVerify';
  loadBalancerIp: 'loadBalancerIP';
  nodeId: 'nodeID';
  pdId: 'pdID';
  podCidr: 'podCIDR';
  podCidRs: 'podCIDRs';
  providerId: 'providerID';
  setHostnameAsFqdn: 'setHostnameAsFQDN';
  storagePolicyId: 'storagePolicyID';
  targetWwNs: 'targetWWNs';
  volumeId: 'volumeID';
}
type JsonName<K> = K extends keyof JsonNames ? JsonNames[K] : K;
type PlainObject<T> = { readonly [K in keyof T as JsonName<K>]: PlainJson<T[K]> };

/**
 * A cdk8s-plus L1 type as plain JSON: Kubernetes field names, and quantities and int-or-strings
 * as strings or numbers.
 */
export type PlainJson<T> = T extends Scalar
  ? [keyof T] extends ['value']
    ? string | number
    : PlainObject<T>
  : T extends (infer U)[]
    ? PlainJson<U>[]
    : T extends object
      ? PlainObject<T>
      : T;

/** A core/v1 EnvVar. */
export type EnvVar = PlainJson<k8s.EnvVar>;

/** A core/v1 Container (merged by name in a Server); quantities as strings or numbers. */
export type ContainerSpec = PlainJson<k8s.Container>;

/** A core/v1 Toleration, with the operator and effect Kubernetes accepts. */
export type Toleration = Omit<PlainJson<k8s.Toleration>, 'operator' | 'effect'> & {
  /**
   * `Equal` matches `value`; `Exists` matches any value of the key (and takes no `value`).
   * @default 'Equal'
   */
  readonly operator?: 'Equal' | 'Exists';
  /**
   * Taint effect to tolerate.
   * @default - every effect
   */
  readonly effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
};

/** A core/v1 Affinity: node affinity, pod affinity and pod anti-affinity. */
export type Affinity = PlainJson<k8s.Affinity>;

/** A ServerConfig's pod spec: a full core/v1 PodSpec in plain JSON (containers required). */
export type PodSpec = Omit<PlainJson<k8s.PodSpec>, 'tolerations' | 'affinity'> & {
  /** @default - none */
  readonly tolerations?: Toleration[];
  /** @default - none */
  readonly affinity?: Affinity;
};

/** Pod spec fields of core/v1 that Seldon's Server CRD does not take in its override. */
type NotInServerOverride =
  | 'containers'
  | 'ephemeralContainers'
  | 'hostUsers'
  | 'os'
  | 'resourceClaims'
  | 'schedulingGates'
  | 'serviceAccount';

/** A Server's pod spec override: the fields Seldon's Server CRD takes; containers merged by name. */
export type ServerPodSpec = Omit<PodSpec, NotInServerOverride> & {
  /**
   * Containers, merged by name over the configuration's.
   * @default - the configuration's containers as they are
   */
  readonly containers?: ContainerSpec[];
};

/** Either pod spec, as the helpers below read and edit it. */
type AnyPodSpec = ServerPodSpec | PodSpec;

/** The agent sidecar: it reads capabilities and over-commit from its environment. */
export const AGENT_CONTAINER = 'agent';
export const CAPABILITIES_ENV = 'SELDON_SERVER_CAPABILITIES';
export const OVERCOMMIT_ENV = 'SELDON_OVERCOMMIT_PERCENTAGE';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function findContainer(spec: AnyPodSpec | undefined, name: string): ContainerSpec | undefined {
  return spec?.containers?.find((c) => c.name === name);
}

export function envValue(container: ContainerSpec | undefined, name: string): string | undefined {
  return container?.env?.find((e) => e.name === name)?.value;
}

/** A deep copy of plain JSON data, so edits never touch the caller's objects. */
export function clonePodSpec<T extends AnyPodSpec>(spec: T): T {
  return structuredClone(spec);
}

/** The container named `name`, created (with only its name) when missing. */
function ensureContainer(spec: AnyPodSpec, name: string): Mutable<ContainerSpec> {
  const pod = spec as Mutable<ServerPodSpec>;
  pod.containers ??= [];
  let container = pod.containers.find((c) => c.name === name);
  if (!container) {
    container = { name };
    pod.containers.push(container);
  }
  return container as Mutable<ContainerSpec>;
}

/** Sets resource requests or limits (`amounts`) of one container, keeping the others. */
export function setResources(
  spec: AnyPodSpec,
  containerName: string,
  kind: 'requests' | 'limits',
  amounts: Record<string, string | number>,
): void {
  const container = ensureContainer(spec, containerName);
  const resources = { ...(container.resources ?? {}) };
  resources[kind] = { ...(resources[kind] ?? {}), ...amounts };
  container.resources = resources;
}

export function setEnv(spec: AnyPodSpec, containerName: string, name: string, value: string): void {
  const container = ensureContainer(spec, containerName);
  const env = (container.env ?? []).filter((e) => e.name !== name);
  env.push({ name, value });
  container.env = env;
}
