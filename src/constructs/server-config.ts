/** Server configurations: the pod template servers are built from. */
import type { Construct } from 'constructs';
import {
  ACCEPTABLE_POLICY_CHECKS,
  type AcceptablePolicyCheck,
  acceptedPolicyAnnotation,
  isAcceptablePolicyCheck,
} from '../spec/policy.ts';
import { EXPLAINER_CAPABILITY } from '../spec/rules.ts';
import type { ServerConfigSpec } from '../spec/types.ts';
import type { IServerConfig } from './interfaces.ts';
import {
  AGENT_CONTAINER,
  CAPABILITIES_ENV,
  clonePodSpec,
  envValue,
  findContainer,
  OVERCOMMIT_ENV,
  type PodSpec,
  setEnv,
} from './pod-spec.ts';
import { SERVER_CONFIG_PROPS } from './prop-tables.ts';
import { checkProps, reportProps } from './prop-types.ts';
import { memoryBytes } from './quantity.ts';
import { MlopsResource } from './resource.ts';
import { addProblem } from './validation.ts';
import { hardenPodSpec } from './workloads/pod-merge.ts';

export interface VolumeClaimTemplate {
  /** Name of the volume, as the pod's containers mount it. */
  readonly name: string;
  /** A PersistentVolumeClaimSpec. */
  readonly spec: Record<string, unknown>;
}

export interface ServerConfigProps {
  /**
   * `metadata.name`, which Servers refer to.
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * Pod template of every server using this configuration (at least one container). What the
   * restricted Pod Security Standard requires and it leaves out is filled in when synthesized
   * (see `hardenPodSpec`).
   */
  readonly podSpec: PodSpec;
  /**
   * Fill in what the restricted Pod Security Standard requires and the pod template leaves out:
   * `runAsNonRoot: true` and a `RuntimeDefault` seccomp profile for the pod, and for each
   * container `allowPrivilegeEscalation: false` and `capabilities.drop: [ALL]`. Turn it off only
   * to keep a template exactly as written (an imported one, say); synthesis then reports what the
   * template lacks unless `acceptPolicy` accepts it.
   * @default true
   */
  readonly hardenPodSpec?: boolean;
  /**
   * Workload policy checks the pod template is allowed to fail, each with the reason reviewers
   * read: written as `review.cdk8s-mlops.io/accept-<check>` annotations, which `mlops validate`
   * honours. An acceptance of a check that does not fire is reported, so none outlives its reason.
   * @default - none: the template passes every check
   */
  readonly acceptPolicy?: { readonly [check in AcceptablePolicyCheck]?: string };
  /**
   * Persistent volumes of each server replica (e.g. the model cache).
   * @default - none
   */
  readonly volumeClaimTemplates?: VolumeClaimTemplate[];
  /**
   * Capabilities servers advertise, written to the agent container's
   * `SELDON_SERVER_CAPABILITIES` environment variable.
   * @default - whatever the agent container's environment already says
   */
  readonly capabilities?: string[];
  /**
   * Container that serves inference; a Server's `memory` becomes its memory request.
   * @default - `mlserver` or `triton` when the pod has such a container, else the first container
   * other than `agent` and `rclone`
   */
  readonly inferenceContainer?: string;
}

export interface ServerConfigAttributes {
  /**
   * Capabilities its servers advertise.
   * @default - unknown: placement checks trust servers using it
   */
  readonly capabilities?: string[];
  /**
   * Container that serves inference.
   * @default - unknown: Servers using it must not set `memory`
   */
  readonly inferenceContainer?: string;
  /**
   * Memory of a replica when the Server does not say, in bytes.
   * @default - unknown
   */
  readonly defaultMemoryBytes?: number;
  /**
   * Over-commit percentage when the Server does not say.
   * @default - unknown
   */
  readonly defaultOverCommitPercentage?: number;
}

const SIDECARS = new Set([AGENT_CONTAINER, 'rclone']);

function defaultInferenceContainer(spec: PodSpec): string | undefined {
  const names = (spec.containers ?? []).map((c) => c.name);
  return names.find((n) => n === 'mlserver' || n === 'triton') ?? names.find((n) => !SIDECARS.has(n));
}

function builtIn(name: string, capabilities: string[]): IServerConfig {
  // Seldon's shipped configurations request 1G for the server container and over-commit by 10%.
  return Object.freeze({
    name,
    capabilities: Object.freeze(capabilities),
    inferenceContainer: name,
    defaultMemoryBytes: 1e9,
    defaultOverCommitPercentage: 10,
  });
}

export class ServerConfig extends MlopsResource implements IServerConfig {
  /** The `mlserver` configuration Seldon installs (not synthesized). */
  static readonly MLSERVER: IServerConfig = builtIn('mlserver', [
    'mlserver',
    'alibi-detect',
    EXPLAINER_CAPABILITY,
    'huggingface',
    'lightgbm',
    'mlflow',
    'python',
    'sklearn',
    'spark-mlib',
    'xgboost',
  ]);

  /** The `triton` configuration Seldon installs (not synthesized). */
  static readonly TRITON: IServerConfig = builtIn('triton', [
    'triton',
    'dali',
    'fil',
    'onnx',
    'openvino',
    'python',
    'pytorch',
    'tensorflow',
    'tensorrt',
  ]);

  /** A configuration installed elsewhere; tell what you know of it to keep checks precise. */
  static fromName(name: string, attributes: ServerConfigAttributes = {}): IServerConfig {
    return Object.freeze({
      name,
      external: true,
      capabilities: attributes.capabilities ? Object.freeze([...attributes.capabilities]) : undefined,
      inferenceContainer: attributes.inferenceContainer,
      defaultMemoryBytes: attributes.defaultMemoryBytes,
      defaultOverCommitPercentage: attributes.defaultOverCommitPercentage,
    });
  }

  readonly kind = 'ServerConfig' as const;
  readonly capabilities: readonly string[] | undefined;
  readonly inferenceContainer: string | undefined;
  readonly defaultMemoryBytes: number | undefined;
  readonly defaultOverCommitPercentage: number | undefined;
  private readonly podSpec: PodSpec;
  private readonly hardens: boolean;
  private readonly volumeClaimTemplates: VolumeClaimTemplate[] | undefined;

  constructor(scope: Construct, id: string, untypedProps: ServerConfigProps) {
    const { props, problems } = checkProps(untypedProps, SERVER_CONFIG_PROPS);
    super(scope, id, 'ServerConfig', props.name);
    reportProps(this, problems);
    // A podSpec of the wrong kind was reported and left out: check the rest against an empty one.
    const spec = clonePodSpec(props.podSpec ?? { containers: [] });
    const containers = spec.containers ?? [];
    if (containers.length === 0) {
      addProblem(this, {
        field: 'podSpec.containers',
        value: containers,
        message: 'a server configuration needs at least one container',
        fix: 'add the inference server container (and the agent and rclone sidecars)',
      });
    }
    containers.forEach((c, i) => {
      if (typeof c.name !== 'string' || !c.name) {
        addProblem(this, {
          field: `podSpec.containers[${i}].name`,
          message: 'is required',
          fix: 'name every container',
        });
      }
    });
    const agent = findContainer(spec, AGENT_CONTAINER);
    if (props.capabilities) {
      if (agent) setEnv(spec, AGENT_CONTAINER, CAPABILITIES_ENV, props.capabilities.join(','));
      else {
        addProblem(this, {
          field: 'capabilities',
          value: props.capabilities,
          message: `capabilities are read by the "${AGENT_CONTAINER}" container, which the pod spec lacks`,
          fix: `add the agent container (named "${AGENT_CONTAINER}") to podSpec.containers`,
        });
      }
    }
    this.podSpec = spec;
    this.hardens = props.hardenPodSpec ?? true;
    this.recordAcceptances(props.acceptPolicy ?? {});
    this.volumeClaimTemplates = props.volumeClaimTemplates;
    this.capabilities =
      props.capabilities ??
      envValue(agent, CAPABILITIES_ENV)
        ?.split(',')
        .map((c) => c.trim())
        .filter(Boolean);
    this.inferenceContainer = props.inferenceContainer ?? defaultInferenceContainer(spec);
    if (props.inferenceContainer && !findContainer(spec, props.inferenceContainer)) {
      addProblem(this, {
        field: 'inferenceContainer',
        value: props.inferenceContainer,
        message: 'names no container of the pod spec',
        fix: `use one of: ${containers.map((c) => c.name).join(', ')}`,
      });
    }
    const memory = this.inferenceContainer
      ? findContainer(spec, this.inferenceContainer)?.resources?.requests?.memory
      : undefined;
    this.defaultMemoryBytes = memory === undefined ? undefined : memoryBytes(String(memory));
    const overCommit = Number(envValue(agent, OVERCOMMIT_ENV));
    this.defaultOverCommitPercentage = Number.isFinite(overCommit) && agent ? overCommit : undefined;
  }

  private recordAcceptances(accepted: Record<string, unknown>): void {
    for (const [check, reason] of Object.entries(accepted)) {
      if (!isAcceptablePolicyCheck(check)) {
        addProblem(this, {
          field: `acceptPolicy.${check}`,
          value: check,
          message: 'is not a policy check a pod template may fail',
          fix: `use one of: ${ACCEPTABLE_POLICY_CHECKS.join(', ')}`,
        });
      } else if (typeof reason !== 'string' || !reason.trim()) {
        addProblem(this, {
          field: `acceptPolicy.${check}`,
          value: reason,
          message: 'an accepted check needs a reason',
          fix: 'say why the template may fail it, for reviewers to read',
        });
      } else this.apiObject.metadata.addAnnotation(acceptedPolicyAnnotation(check), reason);
    }
  }

  protected renderSpec(): Record<string, unknown> {
    // Seldon builds every server pod from this template: it meets the restricted Pod Security
    // Standard the way the runtime's server StatefulSets do, whatever the app left out.
    const podSpec = this.hardens ? hardenPodSpec(this.podSpec) : this.podSpec;
    const spec: ServerConfigSpec = { podSpec };
    if (this.volumeClaimTemplates?.length) spec.volumeClaimTemplates = this.volumeClaimTemplates;
    return spec as unknown as Record<string, unknown>;
  }
}
