import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of the dataflow process (served on the pipeline gateway's `/metrics`). */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const pipelineRequests = new Counter({
  name: 'mlops_pipeline_requests_total',
  help: 'Synchronous pipeline calls by pipeline and outcome (ok, model_error, timeout, failed)',
  labelNames: ['pipeline', 'outcome'],
  registers: [registry],
});

export const pipelineSeconds = new Histogram({
  name: 'mlops_pipeline_request_seconds',
  help: 'Time from publishing a pipeline request to its output arriving',
  labelNames: ['pipeline'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

export const engineRecords = new Counter({
  name: 'mlops_dataflow_records_total',
  help: 'Records the pipeline engine read and wrote, by pipeline and direction',
  labelNames: ['pipeline', 'direction'],
  registers: [registry],
});

export const modelCalls = new Counter({
  name: 'mlops_modelgateway_calls_total',
  help: 'Model calls made by the model gateway, by model and outcome (ok, error, retry)',
  labelNames: ['model', 'outcome'],
  registers: [registry],
});
