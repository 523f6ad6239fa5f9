/**
 * Plain shapes of the `mlops.seldon.io/v1alpha1` custom resources.
 *
 * This module is the only thing the constructs (compiler) and the runtime share: it has no
 * imports and no behaviour, so either side can change its internals freely.
 */

export const API_GROUP = 'mlops.seldon.io';
export const API_VERSION = 'mlops.seldon.io/v1alpha1';

export type MlopsKind = 'Model' | 'Server' | 'ServerConfig' | 'Pipeline' | 'Experiment';
export const MLOPS_KINDS: readonly MlopsKind[] = [
  'Model',
  'Server',
  'ServerConfig',
  'Pipeline',
  'Experiment',
];

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  generation?: number;
  uid?: string;
  resourceVersion?: string;
}

/** A Kubernetes quantity as written in YAML (`100Ki`, `1.5Gi`, or a plain byte count). */
export type QuantityValue = string | number;

export interface ModelSpec {
  storageUri: string;
  artifactVersion?: number;
  modelType?: string;
  schemaUri?: string;
  secretName?: string;
  requirements?: string[];
  memory?: QuantityValue;
  replicas?: number;
  minReplicas?: number;
  maxReplicas?: number;
  server?: string;
  preloaded?: boolean;
  dedicated?: boolean;
  logger?: { percent?: number };
  explainer?: { type?: string; modelRef?: string; pipelineRef?: string };
  llm?: { modelRef?: string; pipelineRef?: string };
  parameters?: { name: string; value: string }[];
  dataflow?: { cleanTopicsOnDelete?: boolean };
}

export interface ServerSpec {
  serverConfig: string;
  capabilities?: string[];
  extraCapabilities?: string[];
  imageOverrides?: { agent?: Record<string, unknown>; rclone?: Record<string, unknown> };
  podSpec?: Record<string, unknown>;
  statefulSetPersistentVolumeClaimRetentionPolicy?: { whenDeleted?: string; whenScaled?: string };
  replicas?: number;
  minReplicas?: number;
  maxReplicas?: number;
  deploymentStrategy?: Record<string, unknown>;
  disableAutoUpdate?: boolean;
}

export interface ServerConfigSpec {
  podSpec: Record<string, unknown>;
  volumeClaimTemplates?: { name: string; spec: Record<string, unknown> }[];
}

export type JoinType = 'inner' | 'outer' | 'any';

export interface PipelineStepSpec {
  name: string;
  inputs?: string[];
  triggers?: string[];
  tensorMap?: Record<string, string>;
  inputsJoinType?: JoinType;
  triggersJoinType?: JoinType;
  joinWindowMs?: number;
  batch?: { size?: number; windowMs?: number; rolling?: boolean };
}

export interface PipelineSpec {
  steps: PipelineStepSpec[];
  input?: {
    externalInputs?: string[];
    externalTriggers?: string[];
    joinType?: JoinType;
    triggersJoinType?: JoinType;
    joinWindowMs?: number;
    tensorMap?: Record<string, string>;
  };
  output?: {
    steps?: string[];
    stepsJoin?: JoinType;
    joinWindowMs?: number;
    tensorMap?: Record<string, string>;
  };
  allowCycles?: boolean;
  maxStepRevisits?: number;
  dataflow?: { cleanTopicsOnDelete?: boolean };
}

export type ExperimentResourceType = 'model' | 'pipeline';

export interface ExperimentSpec {
  candidates: { name: string; weight: number }[];
  default?: string;
  mirror?: { name: string; percent: number };
  resourceType?: ExperimentResourceType;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  severity?: string;
  lastTransitionTime?: string;
}

export interface StatusBase {
  observedGeneration?: number;
  conditions?: Condition[];
  annotations?: Record<string, string>;
}

export interface ModelStatus extends StatusBase {
  replicas?: number;
  availableReplicas?: number;
  selector?: string;
  modelgwReady?: string;
}

export interface ServerStatus extends StatusBase {
  loadedModels: number;
  replicas: number;
  selector: string;
}

interface Resource<K extends MlopsKind, S, St = StatusBase> {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: ObjectMeta;
  spec: S;
  status?: St;
}

export type ModelResource = Resource<'Model', ModelSpec, ModelStatus>;
export type ServerResource = Resource<'Server', ServerSpec, ServerStatus>;
export type ServerConfigResource = Resource<'ServerConfig', ServerConfigSpec>;
export type PipelineResource = Resource<'Pipeline', PipelineSpec>;
export type ExperimentResource = Resource<'Experiment', ExperimentSpec>;
export type MlopsResource =
  | ModelResource
  | ServerResource
  | ServerConfigResource
  | PipelineResource
  | ExperimentResource;

/** Any Kubernetes object as read from a manifest. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}
