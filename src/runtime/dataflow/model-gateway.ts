import type { Logger } from 'pino';
import { HEADER_ERRORS, HEADER_INLINE, HEADER_PIPELINE } from '../../spec/headers.ts';
import { errorsTopic, modelOfTopic, modelTopic, type TopicNaming } from '../../spec/topics.ts';
import type { Bus, BusRecord, Consumer, OutRecord } from '../bus/bus.ts';
import { endSpan, injectSpan, startStepSpan } from '../telemetry/tracing.ts';
import { DataflowMetrics } from './metrics.ts';
import { ModelCallError, type ModelClient } from './model-client.ts';

/**
 * Serves pipeline steps: reads each model's input topic, calls the model, and writes the
 * response to the model's output topic on the same partition with the same key and headers, or
 * the error text to the errors topic. Outputs and consumed offsets commit together. Input records
 * an engine already served inline are skipped.
 */
export class ModelGateway {
  private consumer?: Consumer;
  private changing: Promise<void> = Promise.resolve();

  constructor(
    private readonly bus: Bus,
    private readonly naming: TopicNaming,
    private models: readonly string[],
    private readonly client: ModelClient,
    private readonly logger: Logger,
    private readonly concurrency = 32,
    private readonly metrics = new DataflowMetrics(),
  ) {}

  /**
   * Serves another set of models: the consumer is replaced (same group, so it resumes from the
   * committed offsets: nothing is lost or served twice), or stopped when no model is left.
   */
  setModels(models: readonly string[]): Promise<void> {
    const next = [...new Set(models)].sort();
    this.changing = this.changing.then(async () => {
      if (next.join() === this.models.join() && (this.consumer || next.length === 0)) return;
      await this.consumer?.close();
      this.consumer = undefined;
      this.models = next;
      if (next.length) await this.start();
    });
    return this.changing;
  }

  async start(): Promise<void> {
    if (this.models.length === 0) return;
    const inputs = this.models.map((m) => modelTopic(this.naming, m, 'inputs'));
    const outputs = this.models.map((m) => modelTopic(this.naming, m, 'outputs'));
    await this.bus.ensureTopics([...inputs, ...outputs, errorsTopic(this.naming)]);
    this.consumer = await this.bus.consume({
      group: `${this.naming.namespace}-${this.naming.prefix}-modelgateway`,
      topics: inputs,
      fromBeginning: false,
      process: (records) => this.process(records),
    });
    await this.consumer.ready();
  }

  async stop(): Promise<void> {
    await this.changing;
    await this.consumer?.close();
    this.consumer = undefined;
  }

  async process(records: BusRecord[]): Promise<OutRecord[]> {
    const out: (OutRecord | undefined)[] = new Array(records.length);
    let next = 0;
    const worker = async () => {
      while (next < records.length) {
        const i = next++;
        out[i] = await this.serve(records[i]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, records.length) }, worker));
    return out.filter((o): o is OutRecord => o !== undefined);
  }

  private async serve(r: BusRecord): Promise<OutRecord | undefined> {
    if (r.headers[HEADER_INLINE]) return undefined;
    const model = modelOfTopic(r.topic);
    // The step's span: its model call and output record carry it on to the next step.
    const span = startStepSpan(r.headers[HEADER_PIPELINE], model, r.headers);
    const headers = span ? { ...r.headers } : r.headers;
    injectSpan(span, headers);
    try {
      const value = await this.client.infer(model, r.value, headers);
      this.metrics.modelCalls.inc({ model, outcome: 'ok' });
      endSpan(span);
      return {
        topic: modelTopic(this.naming, model, 'outputs'),
        key: r.key,
        value,
        headers,
        partition: r.partition,
      };
    } catch (err) {
      endSpan(span, err);
      // Unreachable model: fail the batch so it is delivered again instead of answering an error.
      if (err instanceof ModelCallError && err.retryable) {
        this.metrics.modelCalls.inc({ model, outcome: 'retry' });
        throw err;
      }
      this.metrics.modelCalls.inc({ model, outcome: 'error' });
      this.logger.debug({ err, model, key: r.key }, 'model call failed');
      return {
        topic: errorsTopic(this.naming),
        key: r.key,
        value: Buffer.from((err as Error).message),
        headers: { ...headers, [HEADER_ERRORS]: model },
        partition: r.partition,
      };
    }
  }
}
