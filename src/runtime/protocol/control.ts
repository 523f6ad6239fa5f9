/**
 * TypeScript shapes of the messages in `proto/control.proto`, as `control-proto.ts` loads them:
 * camelCase fields, 64-bit integers as numbers, enums as their names, scalar defaults filled in,
 * absent sub-messages as `undefined` (or `null` once decoded).
 */

export interface ModelParameter {
  name: string;
  value: string;
}

export interface ExplainerSpec {
  type: string;
  modelRef: string;
  pipelineRef: string;
}

export interface LlmSpec {
  modelRef: string;
  pipelineRef: string;
}

export interface ModelDefinition {
  name: string;
  namespace: string;
  version: number;
  storageUri: string;
  /** 0 = not set. */
  artifactVersion: number;
  requirements: string[];
  memoryBytes: number;
  server: string;
  parameters: ModelParameter[];
  secretName: string;
  explainer?: ExplainerSpec | null;
  llm?: LlmSpec | null;
}

export interface ReplicaConfig {
  inferenceHost: string;
  inferenceHttpPort: number;
  inferenceGrpcPort: number;
  memoryBytes: number;
  capabilities: string[];
  overCommitPercentage: number;
}

export interface LoadedModel {
  name: string;
  version: number;
  model?: ModelDefinition | null;
}

export interface AgentSubscribeRequest {
  serverName: string;
  replicaIdx: number;
  replicaConfig: ReplicaConfig;
  loadedModels: LoadedModel[];
  availableMemoryBytes: number;
  namespace: string;
  /** Its inference server is not answering: `loadedModels` are held but do not serve (a
   * scheduler that restarts meanwhile must not route to them). */
  serverDown?: boolean;
}

export type Operation = 'OPERATION_UNKNOWN' | 'LOAD_MODEL' | 'UNLOAD_MODEL';

export interface ModelOperation {
  operation: Operation;
  model: ModelDefinition;
  /** W3C trace context of the scheduler's span for this operation, when traced. */
  traceparent?: string;
}

export type ModelEventType =
  | 'MODEL_EVENT_UNKNOWN'
  | 'LOAD_FAIL_MEMORY'
  | 'LOADED'
  | 'LOAD_FAILED'
  | 'UNLOADED'
  | 'UNLOAD_FAILED'
  /** The replica's inference server stopped answering: it cannot serve this model until the
   * server is back (a transient outage, not a load failure). */
  | 'SERVER_DOWN';

export interface ModelEvent {
  serverName: string;
  replicaIdx: number;
  modelName: string;
  modelVersion: number;
  event: ModelEventType;
  message: string;
  availableMemoryBytes: number;
}

export type ScalingTrigger = 'SCALE_UP' | 'SCALE_DOWN';

export interface ModelScalingTriggerMessage {
  serverName: string;
  replicaIdx: number;
  modelName: string;
  modelVersion: number;
  trigger: ScalingTrigger;
  amount: number;
  metrics: Record<string, number>;
}

export interface AgentDrainRequest {
  serverName: string;
  replicaIdx: number;
}

export interface AgentDrainResponse {
  success: boolean;
}

export interface Endpoint {
  serverName: string;
  replicaIdx: number;
  host: string;
  httpPort: number;
  grpcPort: number;
}

export interface VersionRoute {
  version: number;
  /** `<model>_<version>`: the name on the inference server, sent as `seldon-internal-model`. */
  internalName: string;
  /** Ready replicas, sorted by (server, replica index). */
  endpoints: Endpoint[];
}

/** While a version rolls out several versions are listed; split traffic by endpoint counts. */
export interface ModelRoute {
  name: string;
  namespace: string;
  versions: VersionRoute[];
}

export interface ExperimentRoute {
  name: string;
  namespace: string;
  default: string;
  candidates: { name: string; weight: number }[];
  mirror?: { name: string; percent: number } | null;
  resourceType: 'model' | 'pipeline' | string;
}

export interface PipelineRoute {
  name: string;
  namespace: string;
  version: number;
  modelsReady: boolean;
}

export interface RouteSubscribeRequest {
  subscriberName: string;
}

export interface RouteUpdate {
  revision: number;
  /** When true the receiver replaces its whole table with this message's contents. */
  full: boolean;
  models: ModelRoute[];
  removedModels: string[];
  experiments: ExperimentRoute[];
  removedExperiments: string[];
  pipelines: PipelineRoute[];
  removedPipelines: string[];
}

/** Name a model version is loaded under on the inference server. */
export function internalModelName(model: string, version: number): string {
  return `${model}_${version}`;
}
