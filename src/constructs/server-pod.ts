/**
 * A Server's first-class pod settings (CPU, memory limit, accelerators, node selector,
 * tolerations, affinity), checked and written into its pod spec override, which both the
 * Seldon Server resource and the runtime's StatefulSet are built from.
 */
import type { IConstruct } from 'constructs';
import { parseQuantity } from '../spec/quantity.ts';
import { checkCount } from './checks.ts';
import {
  type Affinity,
  type ContainerSpec,
  findContainer,
  type ServerPodSpec,
  setResources,
  type Toleration,
} from './pod-spec.ts';
import { formatBytes, type Memory, memoryProblem, QUANTITY_HINT, renderMemory } from './quantity.ts';
import { addProblem } from './validation.ts';

/** An extended resource such as `amd.com/gpu`, counted in whole devices. */
export interface ExtendedResource {
  /** Fully qualified resource name outside kubernetes.io, e.g. `amd.com/gpu`. */
  readonly resource: string;
  /** Devices per replica. */
  readonly count: number;
}

/** The pod settings a Server takes as props. */
export interface ServerPodSettings {
  /**
   * Memory of one replica: the inference container's memory request, which is what Seldon
   * places models against (the server's capacity). A cdk8s `Size` or a Kubernetes quantity such
   * as `4Gi`, written to `podSpec.containers[<inference>].resources.requests.memory`.
   * `memoryLimit` caps the container; models are placed against this request only.
   * @default - the configuration's request (1G for the built-in ones)
   */
  readonly memory?: Memory;
  /**
   * Memory limit of the inference container (`resources.limits.memory`); at least `memory`.
   * @default - the configuration's limit; on the runtime target a quarter above `memory`
   */
  readonly memoryLimit?: Memory;
  /**
   * CPU request of the inference container (`resources.requests.cpu`), in cores: a number or a
   * quantity such as `500m`.
   * @default - the configuration's request; on the runtime target 1 (or `cpuLimit` if lower)
   */
  readonly cpu?: number | string;
  /**
   * CPU limit of the inference container (`resources.limits.cpu`); at least `cpu`.
   * @default - the configuration's limit; on the runtime target 2 (or `cpu` if higher)
   */
  readonly cpuLimit?: number | string;
  /**
   * Accelerators per replica, set as a limit of the inference container (`resources.limits`): a
   * count of `nvidia.com/gpu`, or any extended resource such as
   * `{ resource: 'amd.com/gpu', count: 1 }`.
   * @default - none
   */
  readonly gpu?: number | ExtendedResource;
  /**
   * Node labels the replicas must run on, e.g. `{ 'node.example.com/pool': 'gpu' }`; merged
   * with `podSpec.nodeSelector` (differing values for one key are a finding).
   * @default - any node
   */
  readonly nodeSelector?: Record<string, string>;
  /**
   * Taints the replicas tolerate (GPU nodes are often tainted); added after `podSpec.tolerations`.
   * @default - none
   */
  readonly tolerations?: Toleration[];
  /**
   * Node and pod (anti-)affinity of the replicas (`podSpec.affinity`). On the runtime target,
   * kinds left unset keep the default spreading of replicas over nodes.
   * @default - none; on the runtime target, replicas prefer different nodes
   */
  readonly affinity?: Affinity;
}

/** What the configuration tells about the inference container. */
export interface InferenceTarget {
  readonly configName: string;
  readonly container: string | undefined;
  readonly defaultMemoryBytes: number | undefined;
}

export const NVIDIA_GPU = 'nvidia.com/gpu';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** Why `name` is not a qualified name (`[prefix/]name`, as label keys and resource names are). */
function qualifiedNameProblem(name: string, prefixRequired: boolean): string | undefined {
  const parts = name.split('/');
  if (parts.length > 2) return 'has more than one "/"';
  const [prefix, local] = parts.length === 2 ? parts : [undefined, parts[0]];
  if (prefix === undefined && prefixRequired) return 'needs a domain prefix, as in amd.com/gpu';
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
    return `has a prefix "${prefix}" that is not a DNS subdomain`;
  if (local.length > 63 || !NAME_PART.test(local))
    return 'is not a name of at most 63 letters, digits, "-", "_" or "." starting and ending with a letter or digit';
  return undefined;
}

function extendedResourceProblem(name: string): string | undefined {
  const problem = qualifiedNameProblem(name, true);
  if (problem) return problem;
  const prefix = name.split('/')[0];
  if (prefix === 'kubernetes.io' || prefix.endsWith('.kubernetes.io'))
    return 'is in the kubernetes.io domain, which extended resources may not use';
  return undefined;
}

/** One amount to write into the inference container's resources. */
interface Amount {
  readonly field: string;
  readonly kind: 'requests' | 'limits';
  readonly resource: string;
  readonly value: string | number;
}

function memoryAmount(scope: IConstruct, field: string, memory: Memory | undefined): string | undefined {
  if (memory === undefined) return undefined;
  const text = renderMemory(memory);
  const problem = memoryProblem(text);
  if (!problem) return text;
  addProblem(scope, { field, value: text, message: problem, fix: `use ${QUANTITY_HINT}` });
  return undefined;
}

function cpuAmount(
  scope: IConstruct,
  field: string,
  cpu: number | string | undefined,
): string | number | undefined {
  if (cpu === undefined) return undefined;
  const amount = typeof cpu === 'number' || typeof cpu === 'string' ? parseQuantity(String(cpu)) : undefined;
  if (amount !== undefined && amount > 0) return cpu;
  addProblem(scope, {
    field,
    value: cpu,
    message: amount === undefined ? 'is not a Kubernetes quantity' : 'must be more than zero',
    fix: 'use cores as a number or a quantity, e.g. 2, 0.5 or 500m',
  });
  return undefined;
}

function gpuAmount(scope: IConstruct, gpu: number | ExtendedResource | undefined): Amount | undefined {
  if (gpu === undefined) return undefined;
  if (typeof gpu === 'number') {
    return checkCount(scope, 'gpu', gpu)
      ? { field: 'gpu', kind: 'limits', resource: NVIDIA_GPU, value: gpu }
      : undefined;
  }
  if (typeof gpu !== 'object' || gpu === null) {
    addProblem(scope, {
      field: 'gpu',
      value: String(gpu),
      message: 'is neither a count nor an extended resource',
      fix: "pass a number of nvidia.com/gpu, or { resource: 'amd.com/gpu', count: 1 }",
    });
    return undefined;
  }
  const problem = extendedResourceProblem(String(gpu.resource));
  if (problem) {
    addProblem(scope, {
      field: 'gpu.resource',
      value: gpu.resource,
      message: problem,
      fix: 'use the name the device plugin advertises, e.g. nvidia.com/gpu or amd.com/gpu',
    });
  }
  const countOk = checkCount(scope, 'gpu.count', gpu.count);
  return problem || !countOk
    ? undefined
    : { field: 'gpu', kind: 'limits', resource: gpu.resource, value: gpu.count };
}

function amounts(scope: IConstruct, s: ServerPodSettings): Amount[] {
  const out: (Amount | undefined)[] = [];
  const add = (field: string, kind: Amount['kind'], resource: string, value: string | number | undefined) =>
    out.push(value === undefined ? undefined : { field, kind, resource, value });
  add('memory', 'requests', 'memory', memoryAmount(scope, 'memory', s.memory));
  add('memoryLimit', 'limits', 'memory', memoryAmount(scope, 'memoryLimit', s.memoryLimit));
  add('cpu', 'requests', 'cpu', cpuAmount(scope, 'cpu', s.cpu));
  add('cpuLimit', 'limits', 'cpu', cpuAmount(scope, 'cpuLimit', s.cpuLimit));
  out.push(gpuAmount(scope, s.gpu));
  return out.filter((a): a is Amount => a !== undefined);
}

/** Writes the resource props into the inference container; conflicts with `podSpec` are findings. */
export function applyResources(
  scope: IConstruct,
  s: ServerPodSettings,
  target: InferenceTarget,
  podSpec: ServerPodSpec | undefined,
): ServerPodSpec | undefined {
  const wanted = amounts(scope, s);
  if (!wanted.length) return podSpec;
  const container = target.container;
  if (!container) {
    for (const w of wanted) {
      addProblem(scope, {
        field: w.field,
        value: w.value,
        message: `the server configuration "${target.configName}" does not say which container serves inference`,
        fix: `pass \`inferenceContainer\` to ServerConfig.fromName, or set the ${w.resource} ${w.kind === 'requests' ? 'request' : 'limit'} in podSpec`,
      });
    }
    return podSpec;
  }
  let spec = podSpec;
  for (const w of wanted) {
    const existing = findContainer(spec, container)?.resources?.[w.kind]?.[w.resource];
    if (existing !== undefined && String(existing) !== String(w.value)) {
      const verb = w.kind === 'requests' ? 'requesting' : 'limiting';
      addProblem(scope, {
        field: w.field,
        value: w.value,
        message: `conflicts with podSpec container "${container}" ${verb} ${String(existing)}`,
        fix: `set the ${w.resource} ${w.kind === 'requests' ? 'request' : 'limit'} in one place only`,
      });
      continue;
    }
    spec ??= {};
    setResources(spec, container, w.kind, { [w.resource]: w.value });
  }
  checkWithinLimits(scope, findContainer(spec, container), target);
  return spec;
}

/** Requests above limits are rejected by Kubernetes; say so at synth time. */
function checkWithinLimits(
  scope: IConstruct,
  container: ContainerSpec | undefined,
  target: InferenceTarget,
): void {
  const resources = container?.resources;
  for (const resource of ['cpu', 'memory'] as const) {
    const limit = resources?.limits?.[resource];
    if (limit === undefined) continue;
    const declared = resources?.requests?.[resource];
    // Without a declared memory request the configuration's (what placement uses) applies.
    const fallback = resource === 'memory' ? target.defaultMemoryBytes : undefined;
    const requested = declared === undefined ? fallback : parseQuantity(String(declared));
    const limited = parseQuantity(String(limit));
    if (requested === undefined || limited === undefined || requested <= limited) continue;
    const field = resource === 'cpu' ? 'cpuLimit' : 'memoryLimit';
    const shown = declared === undefined ? `the configuration's ${formatBytes(requested)}` : String(declared);
    addProblem(scope, {
      field,
      value: String(limit),
      message: `is below the ${resource} request, ${shown}`,
      fix: `raise ${field} to at least the request, or lower ${resource === 'cpu' ? 'cpu' : 'memory'}`,
    });
  }
}

function checkNodeSelector(scope: IConstruct, selector: Record<string, string>): void {
  for (const [key, value] of Object.entries(selector)) {
    const problem = qualifiedNameProblem(key, false);
    if (problem) {
      addProblem(scope, {
        field: `nodeSelector.${key}`,
        value: key,
        message: `is not a label key: it ${problem}`,
        fix: 'use a label key such as kubernetes.io/arch or node.example.com/pool',
      });
    }
    if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) {
      addProblem(scope, {
        field: `nodeSelector.${key}`,
        value,
        message: 'is not a label value',
        fix: 'use at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit',
      });
    }
  }
}

function checkToleration(scope: IConstruct, t: Toleration, i: number): void {
  const field = `tolerations[${i}]`;
  const problem = (message: string, fix: string) =>
    addProblem(scope, { field, value: JSON.stringify(t), message, fix });
  if (t.operator !== undefined && t.operator !== 'Equal' && t.operator !== 'Exists')
    problem(`has operator "${t.operator}"`, 'use the operator Equal or Exists');
  if (t.effect !== undefined && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t.effect))
    problem(
      `has effect "${t.effect}"`,
      'use the effect NoSchedule, PreferNoSchedule or NoExecute, or leave it out for all',
    );
  if (t.operator === 'Exists' && t.value)
    problem('has a value with the operator Exists', 'drop the value, or use Equal');
  if (!t.key && t.operator !== 'Exists')
    problem(
      'has no key, which only the operator Exists allows',
      'name the taint key, or use operator Exists',
    );
  if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute')
    problem(
      'has tolerationSeconds without the effect NoExecute',
      'set effect NoExecute, or drop tolerationSeconds',
    );
}

/** Node selector, tolerations and affinity written into the pod spec; conflicts are findings. */
export function applyScheduling(
  scope: IConstruct,
  s: ServerPodSettings,
  podSpec: ServerPodSpec | undefined,
): ServerPodSpec | undefined {
  let spec = podSpec;
  const edit = (fields: ServerPodSpec) => {
    spec = { ...(spec ?? {}), ...fields };
  };
  if (s.nodeSelector) {
    checkNodeSelector(scope, s.nodeSelector);
    const declared = spec?.nodeSelector ?? {};
    for (const [key, value] of Object.entries(s.nodeSelector)) {
      if (declared[key] !== undefined && declared[key] !== value) {
        addProblem(scope, {
          field: `nodeSelector.${key}`,
          value,
          message: `conflicts with podSpec.nodeSelector, which selects "${declared[key]}"`,
          fix: 'select each label in one place only',
        });
      }
    }
    edit({ nodeSelector: { ...s.nodeSelector, ...declared } });
  }
  if (s.tolerations) {
    s.tolerations.forEach((t, i) => {
      checkToleration(scope, t, i);
    });
    edit({ tolerations: [...(spec?.tolerations ?? []), ...s.tolerations] });
  }
  if (s.affinity) {
    if (spec?.affinity) {
      addProblem(scope, {
        field: 'affinity',
        message: 'conflicts with podSpec.affinity',
        fix: 'set the affinity in one place only',
      });
    } else edit({ affinity: s.affinity });
  }
  return spec;
}
