import { collectDefaultMetrics, Registry } from 'prom-client';
import { grpcStatusName, DATAFLOW_METRICS as M, PIPELINE_GATEWAY_SERVER } from '../../spec/metrics.ts';
import { counter, gauge, histogram, SeldonInferSeries } from '../service/metric.ts';

/**
 * Prometheus metrics of the dataflow roles (served on the pipeline gateway's `/metrics`), on a
 * registry of their own; one instance is shared by the roles of a process. Beside the runtime's
 * own, Seldon's pipeline gateway metrics (see spec/metrics.ts).
 */
export class DataflowMetrics {
  readonly registry = new Registry();
  readonly pipelineRequests = counter(this.registry, M.pipelineRequests);
  readonly pipelineSeconds = histogram(this.registry, M.pipelineSeconds);
  readonly engineRecords = counter(this.registry, M.engineRecords);
  readonly consumerLag = gauge(this.registry, M.consumerLag);
  readonly modelCalls = counter(this.registry, M.modelCalls);
  private readonly seldonInfer = new SeldonInferSeries(this.registry, M);

  /** `processMetrics`: also the Node process's own (heap, event loop, GC): once per process. */
  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * One synchronous pipeline call, under Seldon's names: `status` is the HTTP status of the
   * answer, `grpcCode` its gRPC status when the call came over gRPC.
   */
  pipelineCall(
    pipeline: string,
    protocol: 'rest' | 'grpc',
    code: { status: number; grpcCode: number },
    seconds: number,
  ): void {
    const label = protocol === 'grpc' ? grpcStatusName(code.grpcCode) : String(code.status);
    const server = PIPELINE_GATEWAY_SERVER;
    this.seldonInfer.record(
      {
        item: { server, pipeline, method_type: protocol, code: label },
        aggregate: { server, method_type: protocol },
        api: { server, pipeline, method: protocol === 'grpc' ? 'grpc' : 'post', code: label },
      },
      seconds,
    );
  }
}
