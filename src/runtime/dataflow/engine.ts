import type { Logger } from 'pino';
import { HEADER_ERRORS, HEADER_INLINE, HEADER_PIPELINE, HEADER_VISITS } from '../../spec/headers.ts';
import { dataflowStateTopic, modelTopic, type TopicNaming, topicIo } from '../../spec/topics.ts';
import type { Bus, BusRecord, Consumer, Headers, OutRecord } from '../bus/bus.ts';
import { Drain } from './drain.ts';
import { mergeHeaders } from './headers.ts';
import { type InlineContext, runInline } from './inline-run.ts';
import { Held, type Joined, type Part, StepJoin } from './join.ts';
import { DataflowMetrics } from './metrics.ts';
import type { ModelCallError, ModelClient } from './model-client.ts';
import {
  batchPayloads,
  concatPayloads,
  decodePayload,
  encodePayload,
  type Payload,
  renameTensors,
  selectTensor,
} from './payload.ts';
import type { PipelinePlan, StepPlan, TopicRef } from './plan.ts';

interface Listener {
  step: StepRuntime;
  role: 'data' | 'trigger';
  index: number;
  ref: TopicRef;
}

interface StepRuntime {
  index: number;
  /**
   * Whether emissions are recorded in the state topic: stateful steps, and steps reading a topic
   * whose offsets a stateful step can hold back (a restart replays those records).
   */
  tracked: boolean;
  plan: StepPlan;
  /** Null for a plain chain step (one source, no triggers): nothing to wait for. */
  join: StepJoin | null;
  batch: { parts: Joined[]; payloads: Payload[]; doneKeys: string[] };
}

/** Requests of one batch run at once in inline mode (their model calls overlap). */
const INLINE_CONCURRENCY = 64;

/**
 * Runs one pipeline over the bus, in one of two modes.
 *
 * Inline (given a model client, for a pipeline whose plan has an `inlineOrder`): reads only the
 * pipeline's input topic and runs each request's steps itself (`runInline`), writing every step's
 * records, the output and the consumed offsets in one transaction: one transactional hop per
 * request instead of one per step.
 *
 * Over topics (otherwise): reads every topic its steps name, keeps the records of this pipeline,
 * selects/renames tensors, joins, batches and writes each step's input topic (which the model
 * gateway serves) and finally the pipeline's output topic. Errors from the errors topic are
 * forwarded to the output so a synchronous caller receives them.
 */
export class PipelineEngine {
  private held = new Held();
  private steps: StepRuntime[] = [];
  private listeners = new Map<string, Listener[]>();
  /** Join/batch keys already emitted (doneKey → time), restored from the state topic on start. */
  private done = new Map<string, number>();
  private readonly horizonMs: number;
  private consumer?: Consumer;
  private timer?: NodeJS.Timeout;
  private restarting?: Promise<void>;
  private stopped = false;

  private readonly inlineContext?: InlineContext;
  /** Requests under way, for a rollout to a new version (see `seal`). */
  private readonly drain: Drain;
  /** Told this pipeline's outputs once committed (a pipeline gateway in the same process answers from them). */
  onOutput?: (records: OutRecord[]) => void;

  constructor(
    private current: PipelinePlan,
    private readonly bus: Bus,
    private readonly naming: TopicNaming,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    private readonly metrics = new DataflowMetrics(),
    models?: ModelClient,
  ) {
    if (models && current.inlineOrder) {
      this.inlineContext = {
        plan: current,
        naming,
        models,
        retry: (err, attempt) => this.retryModel(err, attempt),
        onModelCall: (model, outcome) => this.metrics.modelCalls.inc({ model, outcome }),
      };
    }
    this.drain = new Drain(naming, now);
    const windows = current.steps.map((st) => st.windowMs);
    this.horizonMs = 2 * Math.max(0, ...windows) + 60_000;
    this.reset();
  }

  get plan(): PipelinePlan {
    return this.current;
  }

  /** Whether this engine runs each request's steps itself. */
  get inline(): boolean {
    return this.inlineContext !== undefined;
  }

  /**
   * Takes a changed plan without stopping, when this engine runs requests inline and the new plan
   * does too: requests already running finish on the plan they started with, the next batch
   * starts on the new one. False when the change needs a new engine (it reads other topics).
   */
  async update(plan: PipelinePlan): Promise<boolean> {
    if (!this.inlineContext || !plan.inlineOrder || plan.name !== this.current.name) return false;
    await this.bus.ensureTopics(this.inlineTopics(plan));
    this.current = plan;
    this.inlineContext.plan = plan;
    return true;
  }

  /** Every topic an inline run of `plan` writes. */
  private inlineTopics(plan: PipelinePlan): string[] {
    const models = plan.steps.filter((s) => s.name !== '<output>').map((s) => s.name);
    return [
      plan.inputTopic,
      plan.outputTopic,
      plan.errorsTopic,
      ...models.flatMap((m) => [modelTopic(this.naming, m, 'inputs'), modelTopic(this.naming, m, 'outputs')]),
    ];
  }

  private async retryModel(err: ModelCallError, attempt: number): Promise<void> {
    // Stopping leaves the batch uncommitted: it runs again wherever the pipeline runs next.
    if (this.stopped) throw err;
    if (attempt === 1)
      this.logger.warn({ pipeline: this.plan.name, err: err.message }, 'retrying a model call');
    await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
  }

  private get stateful(): boolean {
    return this.steps.some((s) => s.join || s.plan.batchSize > 0);
  }

  /** Fresh in-memory state: after a restart it is rebuilt by replaying from the committed offsets. */
  private reset(): void {
    this.held = new Held();
    this.done = new Map();
    this.listeners = new Map();
    this.steps = this.plan.steps.map((s, index) => ({
      index,
      plan: s,
      join:
        s.sources.length > 1 || s.triggers.length > 0
          ? new StepJoin(
              s.sources.length,
              s.triggers.length,
              s.inputsJoin,
              s.triggersJoin,
              s.windowMs,
              this.held,
            )
          : null,
      batch: { parts: [], payloads: [], doneKeys: [] },
      tracked: false,
    }));
    const holdable = new Set(
      this.steps
        .filter((s) => s.join || s.plan.batchSize > 0)
        .flatMap((s) => [...s.plan.sources, ...s.plan.triggers].map((r) => r.topic)),
    );
    for (const step of this.steps) {
      step.tracked =
        step.join !== null || step.plan.batchSize > 0 || step.plan.sources.some((r) => holdable.has(r.topic));
    }
    for (const step of this.steps) {
      step.plan.sources.forEach((ref, index) => {
        this.listen(ref.topic, { step, role: 'data', index, ref });
      });
      step.plan.triggers.forEach((ref, index) => {
        this.listen(ref.topic, { step, role: 'trigger', index, ref });
      });
    }
  }

  private listen(topic: string, l: Listener): void {
    const list = this.listeners.get(topic) ?? [];
    list.push(l);
    this.listeners.set(topic, list);
  }

  get group(): string {
    return `${this.naming.namespace}-${this.naming.prefix}-dataflow-${this.plan.name}`;
  }

  get stateTopic(): string {
    return dataflowStateTopic(this.naming, this.plan.name);
  }

  /**
   * Resolves once the start position is fixed: a request published from then on is processed.
   * Reading begins when the consumer has joined its group, which after a predecessor died without
   * leaving takes up to the group's session timeout; not waiting for it lets a restarted dataflow
   * take calls at once.
   */
  async start(): Promise<void> {
    if (this.inlineContext) {
      await this.bus.ensureTopics(this.inlineTopics(this.plan));
      this.consumer = await this.bus.consume({
        group: this.group,
        topics: [this.plan.inputTopic],
        fromBeginning: false,
        process: (records) => this.processInline(records),
        onLag: (topic, partition, records) =>
          this.metrics.consumerLag.set({ pipeline: this.plan.name, topic, partition }, records),
        committed: (records) => this.outputsCommitted(records),
      });
      return;
    }
    await this.bus.ensureTopics([
      ...this.plan.topics,
      this.plan.outputTopic,
      this.stateTopic,
      ...this.plan.steps.map((s) => s.sink),
    ]);
    await this.startConsumer();
    if (this.stateful) {
      const windows = this.steps.filter((s) => s.join).map((s) => s.plan.windowMs);
      const every = Math.max(5, Math.min(100, Math.floor(Math.min(1000, ...windows) / 4)));
      this.timer = setInterval(() => this.sweep(), every);
      this.timer.unref();
    }
  }

  private async startConsumer(): Promise<void> {
    if (this.stateful) {
      for (const r of await this.bus.readSince(this.stateTopic, this.now() - this.horizonMs)) {
        this.done.set(r.key, r.timestamp);
      }
    }
    this.consumer = await this.bus.consume({
      group: this.group,
      topics: this.plan.topics,
      fromBeginning: false,
      process: (records) => this.process(records),
      committed: (records) => this.outputsCommitted(records),
      retained: (topic, partition) =>
        lowest(this.held.lowest(topic, partition), this.drain.retained(topic, partition)),
      onLag: (topic, partition, records) =>
        this.metrics.consumerLag.set({ pipeline: this.plan.name, topic, partition }, records),
      onAbort: () => this.restart(),
    });
  }

  /**
   * Outputs already reflected in memory were not committed: drop all in-memory state and replay
   * from the committed offsets (which never pass records held in that state).
   */
  private restart(): void {
    if (this.restarting || this.stopped) return;
    this.logger.warn(
      { pipeline: this.plan.name },
      'commit failed; rebuilding state from the committed position',
    );
    this.restarting = (async () => {
      await new Promise((r) => setImmediate(r));
      await this.consumer?.close();
      this.reset();
      if (!this.stopped) await this.startConsumer();
    })()
      .catch((err) => {
        // E.g. the broker is still away: a pipeline must not stay stopped, so try again.
        this.logger.warn(
          { pipeline: this.plan.name, err: (err as Error).message },
          'restarting failed; retrying',
        );
        setTimeout(() => this.restart(), 1000).unref();
      })
      .finally(() => {
        this.restarting = undefined;
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.restarting;
    await this.consumer?.close();
  }

  /**
   * Stops starting requests (those arriving stay uncommitted, for the next version's engine) and
   * resolves once the requests under way are answered: then this engine can stop.
   */
  seal(): Promise<void> {
    return this.drain.seal();
  }

  private outputsCommitted(records: OutRecord[]): void {
    const outputs = records.filter((r) => r.topic === this.plan.outputTopic);
    this.drain.answered(outputs.map((r) => r.key));
    if (outputs.length) this.onOutput?.(outputs);
  }

  /** Runs each request of a batch (one partition) inline; the records come back in request order. */
  private async processInline(records: BusRecord[]): Promise<OutRecord[]> {
    const ctx = this.inlineContext as InlineContext;
    // One plan for the whole batch: a change takes effect between batches.
    const run: InlineContext = { ...ctx };
    const name = run.plan.name;
    this.metrics.engineRecords.inc({ pipeline: name, direction: 'in' }, records.length);
    const results: OutRecord[][] = new Array(records.length);
    let next = 0;
    const worker = async () => {
      while (next < records.length) {
        const i = next++;
        const r = records[i];
        // Requests of other pipelines sharing the topic (none with Seldon's names) are not ours.
        if (r.headers[HEADER_PIPELINE] !== name) {
          results[i] = [];
          continue;
        }
        try {
          results[i] = await runInline(run, r);
        } catch (err) {
          if (this.stopped) throw err;
          // A request that cannot be read must not block the partition: report it to the caller.
          const message = `record on ${r.topic}: ${(err as Error).message}`;
          const failed = this.errorRecord(r.key, r.headers, r.partition, 'dataflow', message);
          results[i] = [failed, { ...failed, topic: this.plan.outputTopic }];
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(INLINE_CONCURRENCY, records.length) }, worker));
    const out = results.flat();
    this.metrics.engineRecords.inc({ pipeline: name, direction: 'out' }, out.length);
    return out;
  }

  /** Handles records of one partition; returns what to publish with them. */
  process(records: BusRecord[]): OutRecord[] {
    this.metrics.engineRecords.inc({ pipeline: this.plan.name, direction: 'in' }, records.length);
    const out: OutRecord[] = [];
    const now = this.now();
    for (const r of records) {
      if (!this.drain.admit(r)) continue;
      try {
        this.route(r, now, out);
      } catch (err) {
        // A record that cannot be read must not block the partition: report it to the caller.
        out.push(
          this.errorRecord(
            r.key,
            r.headers,
            r.partition,
            'dataflow',
            `record on ${r.topic}: ${(err as Error).message}`,
          ),
        );
      }
    }
    this.metrics.engineRecords.inc({ pipeline: this.plan.name, direction: 'out' }, out.length);
    return out;
  }

  private route(r: BusRecord, now: number, out: OutRecord[]): void {
    // A step of this pipeline that already ran inline (before a change or a restart made this
    // engine read the model topics): its request was answered then.
    if (r.headers[HEADER_INLINE] && r.headers[HEADER_PIPELINE] === this.plan.name) return;
    if (r.topic === this.plan.errorsTopic) {
      if (r.headers[HEADER_PIPELINE] === this.plan.name) {
        out.push({
          topic: this.plan.outputTopic,
          key: r.key,
          value: r.value,
          headers: r.headers,
          partition: r.partition,
        });
      }
      return;
    }
    const listeners = this.listeners.get(r.topic);
    if (!listeners) return;
    let decoded: Payload | undefined;
    for (const l of listeners) {
      if (r.headers[HEADER_PIPELINE] !== l.ref.pipeline) continue;
      decoded ??= decodePayload(topicIo(r.topic), r.value);
      let payload: Payload | undefined = decoded;
      // Conditional routing: a record without the referenced tensor does not feed this step.
      if (l.ref.tensor) payload = selectTensor(payload, l.ref.tensor);
      if (!payload) continue;
      const map = l.step.plan.tensorMap;
      if (map.size) payload = renameTensors(payload, (n) => map.get(`${r.topic}\u0000${n}`));
      const part: Part = {
        payload,
        headers: r.headers,
        pos: { topic: r.topic, partition: r.partition, offset: r.offset },
      };
      const joinKey = this.plan.allowCycles ? `${r.key}#${visits(r.headers)[l.step.plan.name] ?? 0}` : r.key;
      const doneKey = `${l.step.index}\u0000${joinKey}`;
      // Already emitted before a restart (or a late record of an `any` join): nothing to add.
      if (l.step.tracked && this.done.has(doneKey)) continue;
      if (!l.step.join) {
        this.emit(l.step, { key: r.key, data: [part], triggers: [], partition: r.partition }, out, doneKey);
        continue;
      }
      const joined = l.step.join.offer(joinKey, l.role, l.index, part, now);
      if (joined) this.emit(l.step, { ...joined, key: r.key }, out, doneKey);
    }
  }

  private sweep(): void {
    const now = this.now();
    const out: OutRecord[] = [];
    for (const step of this.steps) {
      const dropped: string[] = [];
      for (const joined of step.join?.expire(now, dropped) ?? []) {
        const doneKey = `${step.index}\u0000${joined.key}`;
        const key = this.plan.allowCycles ? joined.key.replace(/#\d+$/, '') : joined.key;
        this.emit(step, { ...joined, key }, out, doneKey);
      }
      // Seldon's semantics (nothing is emitted), but not silently: a request ends here.
      if (dropped.length)
        this.logger.warn(
          {
            pipeline: this.plan.name,
            step: step.plan.name,
            requests: dropped.slice(0, 10),
            count: dropped.length,
          },
          'join window ended before every input arrived; those requests end at this step',
        );
    }
    for (const [key, at] of this.done) {
      if (now - at < this.horizonMs) break;
      this.done.delete(key);
    }
    if (out.length && this.consumer) {
      this.consumer.emit(out).catch((err) => this.logger.error({ err }, 'publishing joined records failed'));
    }
  }

  /** Remembers that a stateful step emitted for a key, in the same transaction as the output. */
  private markDone(keys: string[], out: OutRecord[]): void {
    const now = this.now();
    for (const key of keys) {
      this.done.set(key, now);
      out.push({ topic: this.stateTopic, key, value: Buffer.alloc(0), partition: 0 });
    }
  }

  private emit(step: StepRuntime, joined: Joined, out: OutRecord[], doneKey: string): void {
    if (step.tracked && step.plan.batchSize === 0) this.markDone([doneKey], out);
    const headers = mergeHeaders(joined.data.length ? joined.data : joined.triggers);
    headers[HEADER_PIPELINE] = this.plan.name;
    if (this.plan.allowCycles) {
      const v = visits(headers);
      const count = (v[step.plan.name] ?? 0) + 1;
      if (count > this.plan.maxStepRevisits + 1) {
        out.push(
          this.errorRecord(
            joined.key,
            headers,
            joined.partition,
            step.plan.name,
            `step "${step.plan.name}" of pipeline "${this.plan.name}" ran ${count} times for one request, more than maxStepRevisits (${this.plan.maxStepRevisits}) allows`,
          ),
        );
        return;
      }
      v[step.plan.name] = count;
      headers[HEADER_VISITS] = Object.entries(v)
        .map(([k, n]) => `${k}=${n}`)
        .join(',');
    }
    let payload = concatPayloads(joined.data.map((p) => p.payload));
    if (step.plan.batchSize > 0) {
      step.batch.parts.push(joined);
      step.batch.payloads.push(payload);
      step.batch.doneKeys.push(doneKey);
      for (const p of joined.data) this.held.add(p.pos);
      if (step.batch.payloads.length < step.plan.batchSize) return;
      const { parts, payloads, doneKeys } = step.batch;
      step.batch = { parts: [], payloads: [], doneKeys: [] };
      this.markDone(doneKeys, out);
      for (const j of parts) for (const p of j.data) this.held.remove(p.pos);
      try {
        payload = batchPayloads(payloads);
      } catch (err) {
        out.push(
          this.errorRecord(joined.key, headers, joined.partition, step.plan.name, (err as Error).message),
        );
        return;
      }
    }
    out.push({
      topic: step.plan.sink,
      key: joined.key,
      value: encodePayload(step.plan.sinkIo, payload, step.plan.sinkModel),
      headers,
      partition: joined.partition,
    });
  }

  private errorRecord(
    key: string,
    headers: Headers,
    partition: number,
    source: string,
    message: string,
  ): OutRecord {
    return {
      topic: this.plan.errorsTopic,
      key,
      value: Buffer.from(message),
      headers: { ...headers, [HEADER_PIPELINE]: this.plan.name, [HEADER_ERRORS]: source },
      partition,
    };
  }
}

function lowest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

function visits(headers: Headers): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of (headers[HEADER_VISITS] ?? '').split(',')) {
    const eq = item.lastIndexOf('=');
    if (eq > 0) out[item.slice(0, eq)] = Number(item.slice(eq + 1));
  }
  return out;
}
