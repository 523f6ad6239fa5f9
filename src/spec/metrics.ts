/**
 * Every Prometheus metric the runtime exports: its name, type, labels and (for histograms)
 * buckets. The runtime registers its metrics from here, and synthesis builds the Grafana
 * dashboard, the Prometheus Adapter rules and the autoscaling checks from here, so a query can
 * only name a metric that exists.
 *
 * Beside the runtime's own `mlops_*` metrics, the `seldon_*` ones carry the names, types, labels
 * and buckets Seldon Core 2's agent and pipeline gateway export, so dashboards and autoscaling
 * rules written for Seldon work unchanged.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';
/** The component whose `/metrics` serves a metric. */
export type MetricSource = 'scheduler' | 'agent' | 'gateway' | 'dataflow';

export interface MetricDef {
  readonly name: string;
  readonly type: MetricType;
  readonly labels: readonly string[];
  readonly help: string;
  readonly source: MetricSource;
  /** Upper bounds of a histogram's buckets, in seconds. */
  readonly buckets?: readonly number[];
  /** Where Seldon Core 2 exports the same metric (the name is Seldon's). */
  readonly seldon?: 'agent' | 'pipeline gateway';
}

/** The buckets of Seldon's latency histograms. */
export const SELDON_LATENCY_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/** The `server` label of the pipeline gateway's Seldon metrics (Seldon's value). */
export const PIPELINE_GATEWAY_SERVER = 'pipeline-gateway';

const def = (
  source: MetricSource,
  type: MetricType,
  name: string,
  labels: readonly string[],
  help: string,
  extra: { buckets?: readonly number[]; seldon?: MetricDef['seldon'] } = {},
): MetricDef => ({ name, type, labels, help, source, ...extra });

const REPLICA = ['server', 'server_replica'] as const;
const MODEL_INFER = [...REPLICA, 'model', 'model_internal', 'method_type', 'code'] as const;
const PIPELINE_INFER = ['server', 'pipeline', 'method_type', 'code'] as const;
const seldonAgent = { seldon: 'agent' } as const;
const seldonPipeline = { seldon: 'pipeline gateway' } as const;

/** The agent's metrics (per server replica), served on its admin port. */
export const AGENT_METRICS = {
  loads: def(
    'agent',
    'counter',
    'mlops_agent_model_loads_total',
    ['result'],
    'Model loads requested by the scheduler, by result',
  ),
  unloads: def(
    'agent',
    'counter',
    'mlops_agent_model_unloads_total',
    ['result'],
    'Model unloads requested by the scheduler, by result',
  ),
  evictions: def(
    'agent',
    'counter',
    'mlops_agent_model_evictions_total',
    [],
    'Models evicted from server memory to make room (they stay registered on disk)',
  ),
  reloads: def(
    'agent',
    'counter',
    'mlops_agent_model_reloads_total',
    [],
    'Evicted models loaded again because a request needed them',
  ),
  reloadSeconds: def(
    'agent',
    'histogram',
    'mlops_agent_model_reload_seconds',
    [],
    'Time to bring an evicted model back into memory (including evicting others)',
    {
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    },
  ),
  downloads: def(
    'agent',
    'counter',
    'mlops_agent_artifact_downloads_total',
    ['result'],
    'Artifact downloads, by result: success, or why they failed (not-found, access-denied, bad-secret, transient, ...)',
  ),
  downloadSeconds: def(
    'agent',
    'histogram',
    'mlops_agent_artifact_download_seconds',
    [],
    'Time to download an artifact into the cache, retries included',
    {
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
    },
  ),
  capacityBytes: def(
    'agent',
    'gauge',
    'mlops_agent_memory_capacity_bytes',
    [],
    'Inference server memory the agent fills with models',
  ),
  inMemoryBytes: def(
    'agent',
    'gauge',
    'mlops_agent_memory_in_use_bytes',
    [],
    'Memory of the models currently loaded on the inference server',
  ),
  registeredBytes: def(
    'agent',
    'gauge',
    'mlops_agent_memory_registered_bytes',
    [],
    'Memory of every registered model, in memory or evicted (may exceed capacity: over-commit)',
  ),
  models: def('agent', 'gauge', 'mlops_agent_models', ['state'], 'Registered models by residency'),
  requests: def(
    'agent',
    'counter',
    'mlops_agent_inference_requests_total',
    ['model', 'protocol', 'code'],
    'Inference requests proxied, by model and protocol',
  ),
  inferSecondsByModel: def(
    'agent',
    'histogram',
    'mlops_agent_infer_seconds',
    ['model'],
    'Latency of inference calls through the agent by model (for per-model percentiles, which Seldon does not export)',
    {
      buckets: SELDON_LATENCY_BUCKETS,
    },
  ),
  // Seldon's agent metrics.
  inferApiSeconds: def(
    'agent',
    'histogram',
    'seldon_model_infer_api_seconds',
    [...REPLICA, 'method', 'code'],
    'Latency of inference calls through the agent (all models of the replica)',
    {
      buckets: SELDON_LATENCY_BUCKETS,
      ...seldonAgent,
    },
  ),
  infer: def(
    'agent',
    'counter',
    'seldon_model_infer_total',
    MODEL_INFER,
    'Inference calls by model',
    seldonAgent,
  ),
  inferSeconds: def(
    'agent',
    'counter',
    'seldon_model_infer_seconds_total',
    MODEL_INFER,
    'Sum of inference call latencies by model, in seconds',
    seldonAgent,
  ),
  aggregateInfer: def(
    'agent',
    'counter',
    'seldon_model_aggregate_infer_total',
    [...REPLICA, 'method_type'],
    'Inference calls of all models of the replica',
    seldonAgent,
  ),
  aggregateInferSeconds: def(
    'agent',
    'counter',
    'seldon_model_aggregate_infer_seconds_total',
    [...REPLICA, 'method_type'],
    'Sum of inference call latencies of all models of the replica, in seconds',
    seldonAgent,
  ),
  cacheEvict: def(
    'agent',
    'counter',
    'seldon_cache_evict_count',
    REPLICA,
    'Models evicted from memory (over-commit)',
    seldonAgent,
  ),
  cacheMiss: def(
    'agent',
    'counter',
    'seldon_cache_miss_count',
    REPLICA,
    'Requests that found their model evicted and reloaded it',
    seldonAgent,
  ),
  loadCount: def('agent', 'counter', 'seldon_load_model_counter', REPLICA, 'Model loads', seldonAgent),
  unloadCount: def('agent', 'counter', 'seldon_unload_model_counter', REPLICA, 'Model unloads', seldonAgent),
  loaded: def(
    'agent',
    'gauge',
    'seldon_loaded_model_gauge',
    [...REPLICA, 'model_internal'],
    '1 while a model version is registered on the replica (in memory or evicted), else 0',
    seldonAgent,
  ),
  loadedMemory: def(
    'agent',
    'gauge',
    'seldon_loaded_model_memory_bytes_gauge',
    [...REPLICA, 'model_internal'],
    'Memory of a model version while it is in memory, else 0',
    seldonAgent,
  ),
  evictedMemory: def(
    'agent',
    'gauge',
    'seldon_evicted_model_memory_bytes_gauge',
    [...REPLICA, 'model_internal'],
    'Memory of a model version while it is evicted, else 0',
    seldonAgent,
  ),
  capacity: def(
    'agent',
    'gauge',
    'seldon_server_replica_memory_capacity_bytes_gauge',
    REPLICA,
    'Memory capacity of the server replica',
    seldonAgent,
  ),
  capacityOvercommit: def(
    'agent',
    'gauge',
    'seldon_server_replica_memory_capacity_overcommit_bytes_gauge',
    REPLICA,
    'Memory the replica registers models for, over-commit included',
    seldonAgent,
  ),
} as const satisfies Record<string, MetricDef>;

/** The inference gateway's metrics, served on its REST port. */
export const GATEWAY_METRICS = {
  requests: def(
    'gateway',
    'counter',
    'mlops_gateway_requests_total',
    ['protocol', 'kind', 'code'],
    'Requests answered by the gateway, by protocol, target kind and status code',
  ),
  latency: def(
    'gateway',
    'histogram',
    'mlops_gateway_request_seconds',
    ['protocol', 'kind'],
    'Time from request received to response sent',
    {
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    },
  ),
  mirrors: def(
    'gateway',
    'counter',
    'mlops_gateway_mirrored_total',
    ['outcome'],
    'Mirrored request copies by outcome (sent, failed, dropped when too many were in flight)',
  ),
} as const satisfies Record<string, MetricDef>;

/** The dataflow's metrics (pipeline gateway, engine, model gateway), served on its REST port. */
export const DATAFLOW_METRICS = {
  pipelineRequests: def(
    'dataflow',
    'counter',
    'mlops_pipeline_requests_total',
    ['pipeline', 'outcome'],
    'Synchronous pipeline calls by pipeline and outcome (ok, model_error, timeout, failed)',
  ),
  pipelineSeconds: def(
    'dataflow',
    'histogram',
    'mlops_pipeline_request_seconds',
    ['pipeline'],
    'Time from publishing a pipeline request to its output arriving',
    {
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    },
  ),
  engineRecords: def(
    'dataflow',
    'counter',
    'mlops_dataflow_records_total',
    ['pipeline', 'direction'],
    'Records the pipeline engine read and wrote, by pipeline and direction',
  ),
  consumerLag: def(
    'dataflow',
    'gauge',
    'mlops_dataflow_consumer_lag_records',
    ['pipeline', 'topic', 'partition'],
    'Records of a pipeline topic partition not yet processed by the engine, after its last batch',
  ),
  modelCalls: def(
    'dataflow',
    'counter',
    'mlops_modelgateway_calls_total',
    ['model', 'outcome'],
    'Model calls made by the model gateway, by model and outcome (ok, error, retry)',
  ),
  // Seldon's pipeline gateway metrics.
  inferApiSeconds: def(
    'dataflow',
    'histogram',
    'seldon_pipeline_infer_api_seconds',
    ['server', 'pipeline', 'method', 'code'],
    'Latency of synchronous pipeline calls',
    {
      buckets: SELDON_LATENCY_BUCKETS,
      ...seldonPipeline,
    },
  ),
  infer: def(
    'dataflow',
    'counter',
    'seldon_pipeline_infer_total',
    PIPELINE_INFER,
    'Synchronous pipeline calls by pipeline',
    seldonPipeline,
  ),
  inferSeconds: def(
    'dataflow',
    'counter',
    'seldon_pipeline_infer_seconds_total',
    PIPELINE_INFER,
    'Sum of pipeline call latencies by pipeline, in seconds',
    seldonPipeline,
  ),
  aggregateInfer: def(
    'dataflow',
    'counter',
    'seldon_pipeline_aggregate_infer_total',
    ['server', 'method_type'],
    'Synchronous pipeline calls of all pipelines',
    seldonPipeline,
  ),
  aggregateInferSeconds: def(
    'dataflow',
    'counter',
    'seldon_pipeline_aggregate_infer_seconds_total',
    ['server', 'method_type'],
    'Sum of pipeline call latencies of all pipelines, in seconds',
    seldonPipeline,
  ),
} as const satisfies Record<string, MetricDef>;

/** The scheduler's metrics, served on its health port. */
export const SCHEDULER_METRICS = {
  placements: def(
    'scheduler',
    'counter',
    'mlops_scheduler_placements_total',
    ['result'],
    'Placement decisions, by result (placed, partial, failed)',
  ),
  placementSeconds: def(
    'scheduler',
    'histogram',
    'mlops_scheduler_placement_seconds',
    [],
    'Time to take one placement decision',
    {
      buckets: [1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 1e-3, 1e-2],
    },
  ),
  routeUpdates: def(
    'scheduler',
    'counter',
    'mlops_scheduler_route_updates_total',
    [],
    'Incremental route-table updates published to gateways',
  ),
  scalingDecisions: def(
    'scheduler',
    'counter',
    'mlops_scheduler_scaling_decisions_total',
    ['kind', 'direction'],
    'Autoscaling changes, by kind and direction',
  ),
  models: def(
    'scheduler',
    'gauge',
    'mlops_scheduler_models',
    ['state'],
    'Models by the state of their latest version',
  ),
  replicasConnected: def(
    'scheduler',
    'gauge',
    'mlops_scheduler_server_replicas_connected',
    ['server'],
    'Connected agents per Server',
  ),
} as const satisfies Record<string, MetricDef>;

/** Every metric the runtime exports (besides Node's default process metrics). */
export const ALL_METRICS: readonly MetricDef[] = [
  ...Object.values(SCHEDULER_METRICS),
  ...Object.values(AGENT_METRICS),
  ...Object.values(GATEWAY_METRICS),
  ...Object.values(DATAFLOW_METRICS),
];

/** The metric named `name`, if the runtime exports it. */
export function metricNamed(name: string): MetricDef | undefined {
  return ALL_METRICS.find((m) => m.name === name);
}

const GRPC_STATUS_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

/** The `code` label of a gRPC call in Seldon's metrics: the status name (`OK`, `NotFound`, ...). */
export function grpcStatusName(code: number): string {
  return GRPC_STATUS_NAMES[code] ?? String(code);
}
