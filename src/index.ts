// The public API: the constructs users declare, the types of what they render, and the functions
// that synthesize and check an app. Everything else is internal to the package.

export { MlopsCrds } from './constructs/crds.ts';
// Constructs and their props
export { Environment, type EnvironmentProps } from './constructs/environment.ts';
export {
  type Candidate,
  Experiment,
  type ExperimentProps,
  type ExperimentTarget,
  type Mirror,
} from './constructs/experiment.ts';
export type {
  IMlopsResource,
  IModel,
  IPipeline,
  IServer,
  IServerConfig,
  ITensorRef,
  PipelineStepRef,
} from './constructs/interfaces.ts';
export {
  ADAPTER_RULES_CONFIGMAP,
  MetricAutoscaler,
  type MetricAutoscalerProps,
  type ScalingMetric,
} from './constructs/metric-autoscaler.ts';
export {
  type ExplainerOptions,
  type InferenceTarget,
  type LlmOptions,
  Model,
  type ModelProps,
  type PayloadLogging,
  type SecretReference,
} from './constructs/model.ts';
// The construct enum (values 'inner' | 'outer' | 'any'), not the plain spec type of the same name.
export {
  JoinType,
  Pipeline,
  type PipelineInput,
  type PipelineOutput,
  type PipelineProps,
  type PipelineStep,
  type StepBatch,
  type StepOptions,
} from './constructs/pipeline.ts';
export type {
  Affinity,
  ContainerSpec,
  EnvVar,
  PlainJson,
  PodSpec,
  ServerPodSpec,
  Toleration,
} from './constructs/pod-spec.ts';
export type { Memory } from './constructs/quantity.ts';
export {
  type ExternalReference,
  type StepReference,
  type TensorMapping,
  TensorRef,
} from './constructs/references.ts';
export {
  type GatewaySettings,
  type KafkaSaslSettings,
  type KafkaSettings,
  type KafkaTlsSettings,
  type ModelCacheProps,
  type MonitoringSettings,
  Runtime,
  type RuntimeProps,
  type SecretKeySelector,
  type StrimziTopics,
  type TracingSettings,
} from './constructs/runtime.ts';
export {
  type DeploymentStrategy,
  type PvcRetention,
  PvcRetentionPolicy,
  Server,
  type ServerAttributes,
  type ServerProps,
} from './constructs/server.ts';
export {
  ServerConfig,
  type ServerConfigAttributes,
  type ServerConfigProps,
  type VolumeClaimTemplate,
} from './constructs/server-config.ts';
export type { ExtendedResource, ServerPodSettings } from './constructs/server-pod.ts';

// Findings of the construct checks
export {
  collectFindings,
  formatFindings,
  type Problem,
  type ValidationFinding,
} from './constructs/validation.ts';

// The resource model (Seldon Core 2's mlops.seldon.io/v1alpha1) and its checks
export { EXTERNAL_REFERENCES_ANNOTATION } from './spec/annotations.ts';
export { type SchemaViolation, validateAgainstCrd } from './spec/crd-check.ts';
export { customResourceDefinitions } from './spec/crd-schemas.ts';
export type { SaslMechanism } from './spec/kafka-security.ts';
export { isMlopsObject } from './spec/objects.ts';
export { parseQuantity } from './spec/quantity.ts';
export {
  API_GROUP,
  API_VERSION,
  type Condition,
  type ExperimentResource,
  type ExperimentResourceType,
  type ExperimentSpec,
  type KubeObject,
  MLOPS_KINDS,
  type MlopsKind,
  type MlopsResource,
  type ModelResource,
  type ModelSpec,
  type ModelStatus,
  type ObjectMeta,
  type PipelineResource,
  type PipelineSpec,
  type PipelineStepSpec,
  type QuantityValue,
  type ServerConfigResource,
  type ServerConfigSpec,
  type ServerResource,
  type ServerSpec,
  type ServerStatus,
  type StatusBase,
} from './spec/types.ts';

// Synthesis
export { MlopsApp } from './synth/app.ts';
export {
  SYNTH_TARGETS,
  SynthError,
  type SynthOptions,
  type SynthTarget,
  synthesizeApp,
  synthesizeObjects,
} from './synth/synthesize.ts';
