/**
 * Loose typings of the Kubernetes pod structures Servers and ServerConfigs carry, plus the few
 * edits Seldon's conventions need (memory request of the inference container, agent env).
 */

export interface EnvVar {
  readonly name: string;
  /**
   * Literal value.
   * @default - empty, or `valueFrom`
   */
  readonly value?: string;
  /**
   * Where the value comes from (field, resource, ConfigMap or Secret key), as in core/v1.
   * @default - the literal `value`
   */
  readonly valueFrom?: Record<string, unknown>;
}

/** A core/v1 Container; only `name` is required in a Server, which is merged by name. */
export interface ContainerSpec {
  readonly name: string;
  /**
   * Container image.
   * @default - the configuration's image for a container of this name
   */
  readonly image?: string;
  /**
   * Environment variables, merged by name.
   * @default - none
   */
  readonly env?: EnvVar[];
  /**
   * Resource requests and limits.
   * @default - none
   */
  readonly resources?: {
    /** @default - none */
    readonly requests?: Record<string, string | number>;
    /** @default - none */
    readonly limits?: Record<string, string | number>;
    readonly [key: string]: unknown;
  };
  readonly [key: string]: unknown;
}

/** A Kubernetes PodSpec (fields as in core/v1); containers are merged by name. */
export interface PodSpec {
  /**
   * Containers (required in a ServerConfig).
   * @default - none
   */
  readonly containers?: ContainerSpec[];
  /**
   * Init containers.
   * @default - none
   */
  readonly initContainers?: ContainerSpec[];
  readonly [key: string]: unknown;
}

/** The agent sidecar: it reads capabilities and over-commit from its environment. */
export const AGENT_CONTAINER = 'agent';
export const CAPABILITIES_ENV = 'SELDON_SERVER_CAPABILITIES';
export const OVERCOMMIT_ENV = 'SELDON_OVERCOMMIT_PERCENTAGE';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function findContainer(spec: PodSpec | undefined, name: string): ContainerSpec | undefined {
  return spec?.containers?.find((c) => c.name === name);
}

export function envValue(container: ContainerSpec | undefined, name: string): string | undefined {
  return container?.env?.find((e) => e.name === name)?.value;
}

/** A deep copy of plain JSON data, so edits never touch the caller's objects. */
export function clonePodSpec(spec: PodSpec | undefined): PodSpec {
  return spec === undefined ? {} : (structuredClone(spec) as PodSpec);
}

/** The container named `name`, created (with only its name) when missing. */
function ensureContainer(spec: Mutable<PodSpec>, name: string): Mutable<ContainerSpec> {
  spec.containers ??= [];
  let container = spec.containers.find((c) => c.name === name);
  if (!container) {
    container = { name };
    spec.containers.push(container);
  }
  return container as Mutable<ContainerSpec>;
}

export function setMemoryRequest(spec: PodSpec, containerName: string, memory: string): void {
  const container = ensureContainer(spec as Mutable<PodSpec>, containerName);
  const resources = { ...(container.resources ?? {}) };
  resources.requests = { ...(resources.requests ?? {}), memory };
  container.resources = resources;
}

export function setEnv(spec: PodSpec, containerName: string, name: string, value: string): void {
  const container = ensureContainer(spec as Mutable<PodSpec>, containerName);
  const env = (container.env ?? []).filter((e) => e.name !== name);
  env.push({ name, value });
  container.env = env;
}
