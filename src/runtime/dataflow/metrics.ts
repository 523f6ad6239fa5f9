import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of the dataflow roles (served on the pipeline gateway's `/metrics`), on a
 * registry of their own; one instance is shared by the roles of a process.
 */
export class DataflowMetrics {
  readonly registry = new Registry();
  readonly pipelineRequests = new Counter({
    name: 'mlops_pipeline_requests_total',
    help: 'Synchronous pipeline calls by pipeline and outcome (ok, model_error, timeout, failed)',
    labelNames: ['pipeline', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly pipelineSeconds = new Histogram({
    name: 'mlops_pipeline_request_seconds',
    help: 'Time from publishing a pipeline request to its output arriving',
    labelNames: ['pipeline'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly engineRecords = new Counter({
    name: 'mlops_dataflow_records_total',
    help: 'Records the pipeline engine read and wrote, by pipeline and direction',
    labelNames: ['pipeline', 'direction'] as const,
    registers: [this.registry],
  });
  readonly modelCalls = new Counter({
    name: 'mlops_modelgateway_calls_total',
    help: 'Model calls made by the model gateway, by model and outcome (ok, error, retry)',
    labelNames: ['model', 'outcome'] as const,
    registers: [this.registry],
  });

  /** `processMetrics`: also the Node process's own (heap, event loop, GC): once per process. */
  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
