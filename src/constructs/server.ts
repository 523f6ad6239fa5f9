/** A Seldon Server: a set of inference-server replicas built from a ServerConfig. */
import type { Construct } from 'constructs';
import type { ServerSpec } from '../spec/types.ts';
import { checkCount, checkScaling, compact } from './checks.ts';
import type { IServer, IServerConfig } from './interfaces.ts';
import {
  AGENT_CONTAINER,
  type ContainerSpec,
  clonePodSpec,
  envValue,
  findContainer,
  OVERCOMMIT_ENV,
  type ServerPodSpec,
  setEnv,
} from './pod-spec.ts';
import { SERVER_PROPS } from './prop-tables.ts';
import { checkProps, reportProps } from './prop-types.ts';
import { type Memory, memoryBytes, memoryProblem, QUANTITY_HINT, renderMemory } from './quantity.ts';
import { ExternalResource, MlopsResource } from './resource.ts';
import { applyResources, applyScheduling, type ServerPodSettings } from './server-pod.ts';
import { addProblem } from './validation.ts';
import { linkServer } from './workloads/registry.ts';
import type { ServerWorkloadView } from './workloads/server-workloads.ts';

/** What happens to a replica's volume claims when the StatefulSet is deleted or scaled down. */
export enum PvcRetentionPolicy {
  RETAIN = 'Retain',
  DELETE = 'Delete',
}

/**
 * Written as `statefulSetPersistentVolumeClaimRetentionPolicy`; each is `PvcRetentionPolicy.RETAIN`
 * or `PvcRetentionPolicy.DELETE`.
 */
export interface PvcRetention {
  /**
   * When the server is deleted.
   * @default - Kubernetes' default (Retain)
   */
  readonly whenDeleted?: PvcRetentionPolicy;
  /**
   * When the server scales down.
   * @default - Kubernetes' default (Retain)
   */
  readonly whenScaled?: PvcRetentionPolicy;
}

/** How pods are replaced when the server runs as a Deployment. */
export interface DeploymentStrategy {
  /** Replace all pods at once (`Recreate`) or a few at a time (`RollingUpdate`). */
  readonly type: 'Recreate' | 'RollingUpdate';
  /**
   * Extra pods during a rolling update (number or percentage such as `25%`).
   * @default - Kubernetes' default (25%)
   */
  readonly maxSurge?: number | string;
  /**
   * Pods that may be unavailable during a rolling update.
   * @default - Kubernetes' default (25%)
   */
  readonly maxUnavailable?: number | string;
}

export interface ServerProps extends ServerPodSettings {
  /**
   * `metadata.name`: a DNS-1123 label without dots.
   * @default - the construct id
   */
  readonly name?: string;
  /** The configuration: `ServerConfig.MLSERVER`, `ServerConfig.TRITON` or your own. */
  readonly serverConfig: IServerConfig;
  /**
   * Capabilities to advertise instead of the configuration's.
   * @default - the configuration's capabilities
   */
  readonly capabilities?: string[];
  /**
   * Capabilities to advertise in addition to the configuration's.
   * @default - none
   */
  readonly extraCapabilities?: string[];
  /**
   * How much more memory than `memory` loaded models may claim, in percent (evicted models
   * reload on demand). Written to the agent container's `SELDON_OVERCOMMIT_PERCENTAGE`.
   * @default - the configuration's value (10 for the built-in ones)
   */
  readonly overCommitPercentage?: number;
  /**
   * Pod spec merged over the configuration's (containers merged by name): the fields of a
   * core/v1 PodSpec that Seldon's Server resource takes, in plain JSON.
   * @default - the configuration's pod spec as is
   */
  readonly podSpec?: ServerPodSpec;
  /**
   * Overrides of the agent and rclone sidecar containers.
   * @default - none
   */
  readonly imageOverrides?: { readonly agent?: ContainerSpec; readonly rclone?: ContainerSpec };
  /**
   * Desired replicas.
   * @default - Seldon's default (1)
   */
  readonly replicas?: number;
  /**
   * Fewest replicas when autoscaling.
   * @default - Seldon's default (0)
   */
  readonly minReplicas?: number;
  /**
   * Most replicas when autoscaling.
   * @default - Seldon's default (0: no bound)
   */
  readonly maxReplicas?: number;
  /**
   * What happens to the replicas' volume claims on deletion and scale-down
   * (`statefulSetPersistentVolumeClaimRetentionPolicy`).
   * @default - Kubernetes' default (Retain)
   */
  readonly pvcRetention?: PvcRetention;
  /**
   * Update strategy when servers run as Deployments.
   * @default - Kubernetes' default (RollingUpdate)
   */
  readonly deploymentStrategy?: DeploymentStrategy;
  /**
   * Do not roll out changes of the configuration to this server.
   * @default - Seldon's default (false)
   */
  readonly disableAutoUpdate?: boolean;
}

/** Stands in for a missing configuration so one synth still reports every other problem. */
const UNKNOWN_CONFIG: IServerConfig = {
  name: '',
  capabilities: undefined,
  inferenceContainer: undefined,
  defaultMemoryBytes: undefined,
  defaultOverCommitPercentage: undefined,
};

export interface ServerAttributes {
  /**
   * Capabilities it advertises.
   * @default - unknown: placement checks trust it
   */
  readonly capabilities?: string[];
  /**
   * Memory of one replica (a cdk8s `Size` or a quantity such as `4Gi`).
   * @default - unknown: any model fits
   */
  readonly memory?: Memory;
  /**
   * Over-commit percentage of its agent.
   * @default 0 when `memory` is given
   */
  readonly overCommitPercentage?: number;
  /**
   * Most replicas it runs.
   * @default - unknown: any replica count fits
   */
  readonly replicas?: number;
}

export class Server extends MlopsResource implements IServer {
  /**
   * A server declared elsewhere (same namespace as `scope`). Placement checks it against what
   * `attributes` declare, and trusts it on what they leave out.
   */
  static fromName(scope: Construct, id: string, name: string, attributes: ServerAttributes = {}): IServer {
    return new ExternalServer(scope, id, name, attributes);
  }

  readonly kind = 'Server' as const;
  readonly serverConfig: IServerConfig;
  readonly capabilities: readonly string[] | undefined;
  readonly memoryBytes: number | undefined;
  readonly overCommitPercentage: number | undefined;
  readonly maxReplicaCount: number;
  private readonly props: ServerProps;
  private readonly podSpec: ServerPodSpec | undefined;

  constructor(scope: Construct, id: string, untypedProps: ServerProps) {
    const { props, problems } = checkProps(untypedProps, SERVER_PROPS);
    super(scope, id, 'Server', props.name);
    reportProps(this, problems);
    this.props = props;
    this.serverConfig = props.serverConfig ?? UNKNOWN_CONFIG;
    this.noteReferences({ kind: 'ServerConfig', ...this.serverConfig });
    if (!props.serverConfig) {
      addProblem(this, {
        field: 'serverConfig',
        message: 'is required',
        fix: 'use ServerConfig.MLSERVER, ServerConfig.TRITON or your own ServerConfig',
      });
    }
    checkScaling(this, props);
    // Autoscaling can take the server up to maxReplicas; otherwise it runs `replicas`.
    this.maxReplicaCount = Math.max(props.replicas ?? 1, props.maxReplicas ?? 0);

    const own = props.capabilities;
    const base = this.serverConfig.capabilities;
    // An empty list is not written, so Seldon falls back to the configuration's capabilities.
    this.capabilities = own?.length ? own : base ? [...base, ...(props.extraCapabilities ?? [])] : undefined;
    for (const field of ['capabilities', 'extraCapabilities'] as const) {
      (props[field] ?? []).forEach((c, i) => {
        if (!c.trim() || c.includes(',')) {
          addProblem(this, {
            field: `${field}[${i}]`,
            value: c,
            message: 'is not a capability name',
            fix: 'use one non-empty capability per entry, without commas',
          });
        }
      });
    }

    const podSpec = props.podSpec === undefined ? undefined : clonePodSpec(props.podSpec);
    (podSpec?.containers ?? []).forEach((c, i) => {
      if (typeof c.name !== 'string' || !c.name) {
        addProblem(this, {
          field: `podSpec.containers[${i}].name`,
          message: 'is required: containers are merged with the configuration by name',
          fix: 'name the container, e.g. "mlserver" or "agent"',
        });
      }
    });
    const target = {
      configName: this.serverConfig.name,
      container: this.serverConfig.inferenceContainer,
      defaultMemoryBytes: this.serverConfig.defaultMemoryBytes,
    };
    this.podSpec = applyResources(this, props, target, podSpec);
    this.podSpec = applyScheduling(this, props, this.podSpec);
    this.podSpec = this.applyOverCommit(this.podSpec);

    const inference = this.serverConfig.inferenceContainer;
    const requested = inference
      ? findContainer(this.podSpec, inference)?.resources?.requests?.memory
      : undefined;
    this.memoryBytes =
      requested === undefined ? this.serverConfig.defaultMemoryBytes : memoryBytes(String(requested));
    const overCommit = Number(envValue(findContainer(this.podSpec, AGENT_CONTAINER), OVERCOMMIT_ENV));
    this.overCommitPercentage = Number.isFinite(overCommit)
      ? overCommit
      : this.serverConfig.defaultOverCommitPercentage;
    // With a Runtime in the namespace, the server also gets its StatefulSet and Services.
    linkServer(this);
  }

  /** What the runtime's workloads for this server are built from. */
  get workloadView(): ServerWorkloadView {
    const p = this.props;
    return {
      name: this.name,
      podSpec: this.podSpec,
      replicas: p.replicas,
      autoscaled: p.minReplicas !== undefined || p.maxReplicas !== undefined,
      pvcRetention: p.pvcRetention,
      agentOverride: p.imageOverrides?.agent as Record<string, unknown> | undefined,
      capabilities: this.capabilities,
      overCommitPercentage: this.overCommitPercentage,
      inferenceContainer: this.serverConfig.inferenceContainer,
    };
  }

  private applyOverCommit(podSpec: ServerPodSpec | undefined): ServerPodSpec | undefined {
    const percent = this.props.overCommitPercentage;
    if (percent === undefined || !checkCount(this, 'overCommitPercentage', percent)) return podSpec;
    const spec = podSpec ?? {};
    setEnv(spec, AGENT_CONTAINER, OVERCOMMIT_ENV, String(percent));
    return spec;
  }

  protected renderSpec(): Record<string, unknown> {
    const p = this.props;
    const strategy = p.deploymentStrategy;
    const spec: ServerSpec = {
      serverConfig: this.serverConfig.name,
      ...compact({
        capabilities: p.capabilities ? [...p.capabilities] : undefined,
        extraCapabilities: p.extraCapabilities ? [...p.extraCapabilities] : undefined,
        imageOverrides: p.imageOverrides
          ? compact({ agent: p.imageOverrides.agent, rclone: p.imageOverrides.rclone })
          : undefined,
        podSpec: this.podSpec as Record<string, unknown> | undefined,
        statefulSetPersistentVolumeClaimRetentionPolicy: p.pvcRetention
          ? compact({ whenDeleted: p.pvcRetention.whenDeleted, whenScaled: p.pvcRetention.whenScaled })
          : undefined,
        replicas: p.replicas,
        minReplicas: p.minReplicas,
        maxReplicas: p.maxReplicas,
        deploymentStrategy: strategy
          ? compact({
              type: strategy.type,
              rollingUpdate: compact({
                maxSurge: strategy.maxSurge,
                maxUnavailable: strategy.maxUnavailable,
              }),
            })
          : undefined,
        disableAutoUpdate: p.disableAutoUpdate,
      }),
    };
    return spec as unknown as Record<string, unknown>;
  }
}

class ExternalServer extends ExternalResource implements IServer {
  readonly kind = 'Server' as const;
  readonly capabilities: readonly string[] | undefined;
  readonly memoryBytes: number | undefined;
  readonly overCommitPercentage: number | undefined;
  readonly maxReplicaCount: number | undefined;

  constructor(scope: Construct, id: string, name: string, attributes: ServerAttributes) {
    super(scope, id, 'Server', name);
    this.capabilities = attributes.capabilities;
    this.memoryBytes = externalMemory(this, attributes.memory);
    this.overCommitPercentage = checkCount(this, 'overCommitPercentage', attributes.overCommitPercentage)
      ? attributes.overCommitPercentage
      : undefined;
    this.maxReplicaCount = checkCount(this, 'replicas', attributes.replicas, 1)
      ? attributes.replicas
      : undefined;
  }
}

function externalMemory(scope: Construct, memory: Memory | undefined): number | undefined {
  if (memory === undefined) return undefined;
  const text = renderMemory(memory);
  const problem = memoryProblem(text);
  if (!problem) return memoryBytes(memory);
  addProblem(scope, { field: 'memory', value: text, message: problem, fix: `use ${QUANTITY_HINT}` });
  return undefined;
}
