import type { Logger } from 'pino';
import { HEADER_ERRORS } from '../../spec/headers.ts';
import { errorsTopic, modelOfTopic, modelTopic, type TopicNaming } from '../../spec/topics.ts';
import type { Bus, BusRecord, Consumer, OutRecord } from '../bus/bus.ts';
import { DataflowMetrics } from './metrics.ts';
import { ModelCallError, type ModelClient } from './model-client.ts';

/**
 * Serves pipeline steps: reads each model's input topic, calls the model, and writes the
 * response to the model's output topic on the same partition with the same key and headers, or
 * the error text to the errors topic. Outputs and consumed offsets commit together.
 */
export class ModelGateway {
  private consumer?: Consumer;

  constructor(
    private readonly bus: Bus,
    private readonly naming: TopicNaming,
    private readonly models: readonly string[],
    private readonly client: ModelClient,
    private readonly logger: Logger,
    private readonly concurrency = 32,
    private readonly metrics = new DataflowMetrics(),
  ) {}

  async start(): Promise<void> {
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
    await this.consumer?.close();
  }

  async process(records: BusRecord[]): Promise<OutRecord[]> {
    const out: OutRecord[] = new Array(records.length);
    let next = 0;
    const worker = async () => {
      while (next < records.length) {
        const i = next++;
        out[i] = await this.serve(records[i]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, records.length) }, worker));
    return out;
  }

  private async serve(r: BusRecord): Promise<OutRecord> {
    const model = modelOfTopic(r.topic);
    try {
      const value = await this.client.infer(model, r.value, r.headers);
      this.metrics.modelCalls.inc({ model, outcome: 'ok' });
      return {
        topic: modelTopic(this.naming, model, 'outputs'),
        key: r.key,
        value,
        headers: r.headers,
        partition: r.partition,
      };
    } catch (err) {
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
        headers: { ...r.headers, [HEADER_ERRORS]: model },
        partition: r.partition,
      };
    }
  }
}
