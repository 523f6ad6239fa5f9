import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  HEADER_ERRORS,
  HEADER_PIPELINE,
  HEADER_REQUEST_ID,
  HEADER_ROUTE,
  HEADER_TRACEPARENT,
} from '../../spec/headers.ts';
import { pipelineTopic, type TopicNaming } from '../../spec/topics.ts';
import type { Bus, BusRecord, Consumer, Headers, OutRecord } from '../bus/bus.ts';
import { GrpcCode, OipError } from '../oip/errors.ts';
import { endSpan, injectSpan, type Span, SpanKind, startSpan } from '../telemetry/tracing.ts';
import { DataflowMetrics } from './metrics.ts';

export interface PipelineResult {
  value: Buffer;
  headers: Headers;
}

interface Waiter {
  pipeline: string;
  resolve(result: PipelineResult): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Turns a synchronous call into topic traffic: the request goes to the pipeline's input topic
 * under a fresh key, and the call completes when a record with that key reaches the pipeline's
 * output topic. Each gateway instance reads every output partition with its own group, so any
 * instance can serve any request; a second output for a key (a replay) finds no waiter and is
 * dropped, so callers never see duplicates. Each pipeline's output has its own consumer, so
 * pipelines are added and removed without touching the others.
 */
export class PipelineGateway {
  private readonly waiters = new Map<string, Waiter>();
  private readonly consumers = new Map<string, Consumer>();
  /** Pipelines taking calls: added once their output is being read, removed before it stops. */
  private readonly serving = new Set<string>();

  constructor(
    private readonly bus: Bus,
    private readonly naming: TopicNaming,
    private readonly pipelines: readonly string[],
    private readonly logger: Logger,
    private readonly timeoutMs = 30_000,
    /** Also what the pipeline servers' `/metrics` serves. */
    readonly metrics = new DataflowMetrics(),
  ) {}

  has(pipeline: string): boolean {
    return this.serving.has(pipeline);
  }

  get inflight(): number {
    return this.waiters.size;
  }

  async start(): Promise<void> {
    for (const p of this.pipelines) await this.add(p);
  }

  /** Takes calls for `pipeline` once its output is being read. */
  async add(pipeline: string): Promise<void> {
    if (this.consumers.has(pipeline)) return;
    const outputs = pipelineTopic(this.naming, pipeline, 'outputs');
    await this.bus.ensureTopics([outputs, pipelineTopic(this.naming, pipeline, 'inputs')]);
    const consumer = await this.bus.consume({
      group: `${this.naming.namespace}-${this.naming.prefix}-pipelinegateway-${randomUUID()}`,
      topics: [outputs],
      fromBeginning: false,
      // A group of its own per instance, never resumed: nothing to commit.
      readOnly: true,
      process: (records) => this.deliver(records),
    });
    this.consumers.set(pipeline, consumer);
    await consumer.ready();
    this.serving.add(pipeline);
  }

  /** Stops taking calls for `pipeline`; calls still waiting for it fail. */
  async remove(pipeline: string): Promise<void> {
    this.serving.delete(pipeline);
    const consumer = this.consumers.get(pipeline);
    this.consumers.delete(pipeline);
    await consumer?.close();
    this.fail((w) => w.pipeline === pipeline, `pipeline "${pipeline}" was deleted`);
  }

  async stop(): Promise<void> {
    this.serving.clear();
    for (const c of this.consumers.values()) await c.close();
    this.consumers.clear();
    this.fail(() => true, 'pipeline gateway shutting down');
  }

  private fail(which: (w: Waiter) => boolean, message: string): void {
    for (const [key, w] of this.waiters) {
      if (!which(w)) continue;
      clearTimeout(w.timer);
      w.reject(new OipError(message, 503));
      this.waiters.delete(key);
    }
  }

  /** Publishes a ModelInferRequest for `pipeline` and waits for its ModelInferResponse. */
  async infer(
    pipeline: string,
    request: Buffer,
    headers: Headers,
    protocol: 'rest' | 'grpc' = 'rest',
  ): Promise<PipelineResult> {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    // From the request's publication to its output: every step's span is under this one.
    const span = startSpan('pipeline-gateway.infer', SpanKind.SERVER, headers);
    span?.setAttribute('mlops.pipeline', pipeline);
    try {
      const result = await this.call(pipeline, request, headers, span);
      this.metrics.pipelineRequests.inc({ pipeline, outcome: 'ok' });
      const took = seconds();
      this.metrics.pipelineSeconds.observe({ pipeline }, took);
      this.metrics.pipelineCall(pipeline, protocol, { status: 200, grpcCode: 0 }, took);
      endSpan(span);
      return result;
    } catch (err) {
      endSpan(span, err);
      const e = err instanceof OipError ? err : new OipError(String(err), 500);
      const outcome = e.status === 504 ? 'timeout' : e.status === 400 ? 'model_error' : 'failed';
      this.metrics.pipelineRequests.inc({ pipeline, outcome });
      this.metrics.pipelineCall(pipeline, protocol, e, seconds());
      throw err;
    }
  }

  private async call(
    pipeline: string,
    request: Buffer,
    headers: Headers,
    span: Span | undefined,
  ): Promise<PipelineResult> {
    if (!this.has(pipeline))
      throw new OipError(`pipeline "${pipeline}" not found on this pipeline gateway`, 404);
    const key = randomUUID();
    const result = new Promise<PipelineResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        reject(new OipError(`pipeline "${pipeline}": no output within ${this.timeoutMs} ms`, 504));
      }, this.timeoutMs);
      this.waiters.set(key, { pipeline, resolve, reject, timer });
    });
    const out: Headers = { [HEADER_REQUEST_ID]: headers[HEADER_REQUEST_ID] ?? key };
    for (const [k, v] of Object.entries(headers))
      if ((k.startsWith('x-') && k !== HEADER_ROUTE) || k === HEADER_TRACEPARENT) out[k] = v;
    out[HEADER_PIPELINE] = pipeline;
    injectSpan(span, out);
    const published = this.bus
      .publish([{ topic: pipelineTopic(this.naming, pipeline, 'inputs'), key, value: request, headers: out }])
      .catch((err) => {
        const w = this.waiters.get(key);
        if (w) clearTimeout(w.timer);
        this.waiters.delete(key);
        throw new OipError(
          `pipeline "${pipeline}": could not publish the request: ${(err as Error).message}`,
          503,
        );
      });
    // While the broker is away the publish is retried: the call still ends at its timeout (or when
    // the gateway stops), and whichever of the two promises loses is settled by no one else.
    published.catch(() => {});
    result.catch(() => {});
    await Promise.race([published, result]);
    return result;
  }

  /**
   * Answers calls from outputs of pipelines whose transaction just committed in this process
   * (its engine ran here): the caller need not wait to read them back. The same record read from
   * the topic later finds no waiter.
   */
  answer(records: readonly OutRecord[]): void {
    this.deliver(records);
  }

  private deliver(records: readonly (BusRecord | OutRecord)[]): [] {
    for (const r of records) {
      const w = this.waiters.get(r.key);
      // A pipeline fed by this one's data (`input.externalInputs`) keeps the request's key: its
      // output is not the answer to a call of this pipeline.
      const pipeline = r.headers?.[HEADER_PIPELINE];
      if (w && pipeline !== undefined && pipeline !== w.pipeline) continue;
      if (!w) {
        this.logger.debug(
          { key: r.key },
          'output with no waiting caller (timed out, or a replayed duplicate)',
        );
        continue;
      }
      this.waiters.delete(r.key);
      clearTimeout(w.timer);
      const headers = r.headers ?? {};
      const failed = headers[HEADER_ERRORS];
      // Model errors reach REST callers as 400 and gRPC callers as UNKNOWN, as in Seldon.
      if (failed) w.reject(new OipError(`${failed}: ${r.value.toString('utf8')}`, 400, GrpcCode.UNKNOWN));
      else w.resolve({ value: r.value, headers });
    }
    return [];
  }
}
