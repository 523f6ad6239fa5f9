import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  type Admin,
  Kafka,
  type Consumer as KafkaConsumer,
  type KafkaMessage,
  type Producer as KafkaProducer,
  logLevel,
  Partitioners,
} from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaSecuritySettings } from '../../spec/kafka-security.ts';
import type { Bus, BusRecord, ConsumeOptions, Consumer, Headers, OutRecord } from './bus.ts';
import { CopartitionedAssigner } from './copartitioned-assigner.ts';
import { CLIENT_RETRY, GROUP_TIMEOUTS, RECOVERY_RETRY_MS } from './kafka-recovery.ts';
import { kafkaClientSecurity, verifyKafkaSecurity } from './kafka-security.ts';
import { createTopicsWithLeaders } from './kafka-topics.ts';

export interface KafkaBusOptions {
  brokers: string[];
  clientId?: string;
  /** Partitions and replication factor of topics this bus creates. */
  partitions?: number;
  replicationFactor?: number;
  /** Distinguishes this process's transactional producers; stable across restarts fences zombies. */
  instanceId?: string;
  /** TLS and SASL; a setting that cannot work fails every call at once (see `verify`). */
  security?: KafkaSecuritySettings;
  logger: Logger;
}

/**
 * The bus on a real Kafka cluster (kafkajs): an idempotent producer (acks=all) for `publish`,
 * and per consumer a transactional producer that writes the batch's outputs and the group's
 * offsets in one transaction (read_committed consumers never see aborted outputs).
 */
export class KafkaBus implements Bus {
  private readonly kafka: Kafka;
  private producer?: Promise<KafkaProducer>;
  private admin?: Promise<Admin>;
  private readonly known = new Set<string>();
  private readonly consumers = new Set<Consumer>();
  private outbox: { records: OutRecord[]; resolve(): void; reject(err: Error): void }[] = [];
  private sending = false;
  private readonly security: ReturnType<typeof kafkaClientSecurity>;
  private verified?: Promise<void>;

  constructor(private readonly opts: KafkaBusOptions) {
    const log = opts.logger.child({ lib: 'kafkajs' });
    this.security = kafkaClientSecurity(opts.security ?? {});
    this.kafka = new Kafka({
      clientId: opts.clientId ?? 'mlops-runtime',
      brokers: opts.brokers,
      ...this.security,
      logLevel: logLevel.WARN,
      logCreator: () => (entry) => {
        const { message, ...extra } = entry.log;
        // An error response the client retries (a coordinator still loading, a leader moving): its
        // request fails only when the retries run out, and that failure reaches the caller.
        if (entry.namespace === 'Connection' && message.startsWith('Response ')) log.debug(extra, message);
        // A member joining or leaving the group (engines scaled, a pipeline's engine replaced):
        // routine, and the rejoin resumes from the committed offsets.
        else if (message.startsWith('The group is rebalancing')) log.info(extra, message);
        else if (entry.level <= logLevel.ERROR) log.error(extra, message);
        else log.warn(extra, message);
      },
      retry: CLIENT_RETRY,
    });
  }

  /**
   * Rejects with a `KafkaSecurityError` naming the broker and the setting when the TLS or SASL
   * settings cannot work, rather than retrying them; every call of the bus waits for this first.
   */
  verify(): Promise<void> {
    this.verified ??= verifyKafkaSecurity(this.opts.brokers, this.opts.security ?? {}, this.security);
    return this.verified;
  }

  private connectedAdmin(): Promise<Admin> {
    this.admin ??= (async () => {
      await this.verify();
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })();
    return this.admin;
  }

  private idempotentProducer(): Promise<KafkaProducer> {
    this.producer ??= (async () => {
      await this.verify();
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: PRODUCER_RETRY,
      });
      await producer.connect();
      return producer;
    })();
    return this.producer;
  }

  async deleteTopics(topics: string[]): Promise<void> {
    const admin = await this.connectedAdmin();
    const existing = new Set(await admin.listTopics());
    const gone = [...new Set(topics)].filter((t) => existing.has(t));
    for (const t of topics) this.known.delete(t);
    if (gone.length) await admin.deleteTopics({ topics: gone });
  }

  async ensureTopics(topics: string[]): Promise<void> {
    const missing = [...new Set(topics)].filter((t) => !this.known.has(t));
    if (missing.length === 0) return;
    const admin = await this.connectedAdmin();
    await createTopicsWithLeaders(admin, missing, {
      numPartitions: this.opts.partitions ?? 1,
      replicationFactor: this.opts.replicationFactor ?? 1,
    });
    for (const t of missing) this.known.add(t);
  }

  /**
   * Records published while a send is in flight go out together in the next one: with one
   * request in flight (idempotence) this keeps concurrent callers from queueing one by one.
   */
  publish(records: OutRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.outbox.push({ records, resolve, reject });
      if (!this.sending) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.sending = true;
    while (this.outbox.length) {
      const group = this.outbox.splice(0);
      try {
        const producer = await this.idempotentProducer();
        await producer.sendBatch({
          acks: -1,
          topicMessages: toTopicMessages(group.flatMap((g) => g.records)),
        });
        for (const g of group) g.resolve();
      } catch (err) {
        for (const g of group) g.reject(err as Error);
      }
    }
    this.sending = false;
  }

  async consume(opts: ConsumeOptions): Promise<Consumer> {
    await this.verify();
    const makeConsumer = () =>
      this.kafka.consumer({
        groupId: opts.group,
        readUncommitted: false,
        partitionAssigners: [CopartitionedAssigner],
        maxWaitTimeInMs: 10,
        ...GROUP_TIMEOUTS,
        // A crashed consumer is replaced by ConsumerRun.recover, never restarted by kafkajs.
        retry: { ...CLIENT_RETRY, restartOnFailure: async () => false },
      });
    const transactionalId = `${opts.group}-${this.opts.instanceId ?? hostname()}`;
    const makeProducer = (slot: number) =>
      this.kafka.producer({
        transactionalId: `${transactionalId}-${slot}`,
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: PRODUCER_RETRY,
      });
    const log = this.opts.logger.child({ group: opts.group });
    const running = new ConsumerRun(makeConsumer, makeProducer, opts, await this.startOffsets(opts), log);
    await running.start();
    this.consumers.add(running);
    const close = running.close.bind(running);
    running.close = async () => {
      this.consumers.delete(running);
      await close();
    };
    return running;
  }

  /**
   * Where a brand-new group starts when it should skip history: the current end of every
   * partition. A group that has committed anything resumes from its commits, and partitions it
   * never committed start at the beginning, so records written while it was away are not skipped.
   */
  private async startOffsets(opts: ConsumeOptions): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (opts.fromBeginning) return out;
    await this.ensureTopics(opts.topics);
    const admin = await this.connectedAdmin();
    const committed = await retry(() => admin.fetchOffsets({ groupId: opts.group, topics: opts.topics }));
    if (committed.some((t) => t.partitions.some((p) => p.offset !== '-1'))) return out;
    for (const t of committed) {
      const ends = await retry(() => admin.fetchTopicOffsets(t.topic));
      for (const e of ends) out.set(`${t.topic}\u0000${e.partition}`, e.high);
    }
    return out;
  }

  async readSince(topic: string, sinceMs: number): Promise<BusRecord[]> {
    await this.ensureTopics([topic]);
    const admin = await this.connectedAdmin();
    const starts = await retry(() => admin.fetchTopicOffsetsByTimestamp(topic, sinceMs));
    const ends = await retry(() => admin.fetchTopicOffsets(topic));
    const wanted = new Map<number, { from: string; high: number }>();
    for (const e of ends) {
      const from = starts.find((s) => s.partition === e.partition)?.offset ?? e.high;
      if (Number(from) >= 0 && Number(from) < Number(e.high))
        wanted.set(e.partition, { from, high: Number(e.high) });
    }
    if (wanted.size === 0) return [];
    const groupId = `restore-${topic}-${randomUUID()}`;
    const consumer = this.kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 100 });
    const records: BusRecord[] = [];
    const reached = new Set<number>();
    let lastActivity = Date.now();
    await consumer.connect();
    try {
      consumer.on(consumer.events.GROUP_JOIN, () => {
        lastActivity = Date.now();
        for (const [partition, w] of wanted) consumer.seek({ topic, partition, offset: w.from });
      });
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachBatch: async ({ batch }) => {
          lastActivity = Date.now();
          for (const m of batch.messages) {
            records.push(toRecord(topic, batch.partition, m));
            if (Number(m.offset) + 1 >= (wanted.get(batch.partition)?.high ?? 0))
              reached.add(batch.partition);
          }
        },
      });
      // Transaction markers take the last offsets, so the end is also reached when nothing more arrives.
      while (reached.size < wanted.size && Date.now() - lastActivity < 1000) await sleep(50);
    } finally {
      await consumer.disconnect();
      await admin.deleteGroups([groupId]).catch(() => {});
    }
    return records.filter((r) => r.timestamp >= sinceMs);
  }

  async close(): Promise<void> {
    for (const c of [...this.consumers]) await c.close();
    if (this.producer) await (await this.producer).disconnect();
    if (this.admin) await (await this.admin).disconnect();
  }
}

/** Partitions processed at once by one consumer; their outputs share transactions. */
const CONCURRENT_PARTITIONS = 8;

/**
 * An idempotent producer retries for as long as it takes (a bounded count can reorder or
 * duplicate records, which kafkajs warns about); a transaction that cannot finish ends when the
 * broker times it out and fences it. The first retry comes quickly: most errors on a local
 * cluster clear within milliseconds.
 */
const PRODUCER_RETRY = { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 20, maxRetryTime: 1000 };

/**
 * Transactional producers per consumer, used in turn. After a commit returns, the coordinator
 * still writes the transaction's markers; the same transactional id cannot begin another
 * transaction until it has (the broker answers CONCURRENT_TRANSACTIONS and the client backs off).
 * Taking the next producer lets the following transaction start at once while the previous one's
 * markers complete.
 */
const PRODUCER_SLOTS = 3;

class ConsumerRun implements Consumer {
  /** Next offset to process per topic/partition. */
  private readonly next = new Map<string, number>();
  /**
   * Per topic/partition, the end of what this consumer processed and the position its last
   * successful transaction committed; both survive rebalances, and a replacement clears them.
   */
  private readonly processedTo = new Map<string, number>();
  private readonly committedAt = new Map<string, number>();
  private joined!: Promise<void>;
  private pending: OutRecord[] = [];
  private dirty = false;
  private flushing?: Promise<void>;
  private failed = false;
  private recovering?: Promise<void>;

  /** Transactional producers taken in turn (see PRODUCER_SLOTS); `broken`: replace before use. */
  private readonly slots: { tx: KafkaProducer; broken: boolean }[];
  private turn = 0;
  private consumer: KafkaConsumer;
  private closed = false;

  constructor(
    private readonly makeConsumer: () => KafkaConsumer,
    private readonly makeProducer: (slot: number) => KafkaProducer,
    private readonly opts: ConsumeOptions,
    private readonly seekTo: Map<string, string>,
    private readonly logger: Logger,
  ) {
    const slots = opts.readOnly ? 0 : PRODUCER_SLOTS;
    this.slots = Array.from({ length: slots }, (_, i) => ({ tx: makeProducer(i), broken: false }));
    this.consumer = makeConsumer();
  }

  async start(): Promise<void> {
    // Connecting initialises each transactional id, fencing a predecessor with the same one.
    await Promise.all(this.slots.map((s) => s.tx.connect()));
    let joined!: () => void;
    this.joined = new Promise((resolve) => {
      joined = resolve;
    });
    await this.run(joined);
  }

  private async run(onJoin: () => void): Promise<void> {
    const consumer = this.consumer;
    await consumer.connect();
    consumer.on(consumer.events.CRASH, (e) => {
      this.logger.warn({ err: e.payload.error?.message }, 'consumer crashed');
      // kafkajs's own restart is off (see consume): its new member would read the committed
      // offsets while a transaction of ours may still be completing. Replacing settles that first.
      if (!this.closed) setTimeout(() => this.recover(consumer), RECOVERY_RETRY_MS);
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.next.clear();
      // A new group starts where the topics end now, not at whatever the first fetch sees.
      let seeked = false;
      for (const [topic, partitions] of Object.entries(e.payload.memberAssignment)) {
        for (const partition of partitions) {
          const key = `${topic}\u0000${partition}`;
          const offset = this.seekTo.get(key);
          if (offset === undefined) continue;
          consumer.seek({ topic, partition, offset });
          this.next.set(key, Number(offset));
          seeked = true;
        }
      }
      this.seekTo.clear();
      // Commit those start positions at once: a partition with no commit would otherwise be read
      // from its beginning after the next rebalance or restart, replaying what came before.
      if (seeked && !this.opts.readOnly) this.transact([]).catch(() => {});
      onJoin();
    });
    // Start positions of a new group are set by seeks on join; anything uncommitted otherwise starts at the beginning.
    await consumer.subscribe({ topics: this.opts.topics, fromBeginning: true });
    // Not awaited: joining waits until the group's members all rejoin, up to a session timeout when a
    // predecessor was killed without leaving. The start positions are fixed already (the commits,
    // or the ends looked up for a new group), so what is published meanwhile is read once it joins.
    const running = consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: CONCURRENT_PARTITIONS,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        if (batch.messages.length === 0) return;
        // kafkajs heartbeats only between batches: keep the session alive while this one runs
        // (slow models, a slow commit), so the session timeout can stay short.
        const beating = setInterval(() => heartbeat().catch(() => {}), GROUP_TIMEOUTS.heartbeatInterval);
        try {
          await this.handleBatch(batch, resolveOffset);
        } finally {
          clearInterval(beating);
        }
        await heartbeat();
      },
    });
    running.catch((err) => {
      this.logger.warn({ err: (err as Error).message }, 'consumer failed to start; retrying');
      if (!this.closed) setTimeout(() => this.recover(consumer), RECOVERY_RETRY_MS);
    });
  }

  private async handleBatch(
    batch: { topic: string; partition: number; highWatermark: string; messages: KafkaMessage[] },
    resolveOffset: (offset: string) => void,
  ): Promise<void> {
    const key = `${batch.topic}\u0000${batch.partition}`;
    let records = batch.messages.map((m) => toRecord(batch.topic, batch.partition, m));
    if (this.failed) throw new Error('an earlier commit failed; the consumer is recovering');
    const last = records[records.length - 1].offset;
    if (records[0].offset < (this.processedTo.get(key) ?? 0)) {
      // Read again after a rebalance: kafkajs fetches committed offsets without asking for stable
      // ones, so while our last transaction's markers are still being written it gets the older
      // position. What our own commits cover is done; skip it (once those commits are complete).
      await this.flushing?.catch(() => {});
      const done = this.committedAt.get(key) ?? 0;
      records = records.filter((r) => r.offset >= done);
      if (records.length === 0) {
        resolveOffset(String(last));
        return;
      }
    }
    // A handler holding records across partitions (a join) releases the other side's record when
    // it completes: from then on that position may be committed, so the output that consumed it
    // must be queued in the same step. Awaiting a handler that answered at once would let a
    // transaction commit the released position without the output in between.
    const result = this.opts.process(records);
    const outputs = result instanceof Promise ? await result : result;
    this.opts.onLag?.(batch.topic, batch.partition, Math.max(0, Number(batch.highWatermark) - last - 1));
    this.next.set(key, last + 1);
    this.processedTo.set(key, Math.max(this.processedTo.get(key) ?? 0, last + 1));
    if (this.opts.readOnly) {
      resolveOffset(String(last));
      return;
    }
    // Positions must never run ahead of commits: a rebalance restarts from the commits.
    await this.transact(outputs);
    resolveOffset(String(last));
  }

  /**
   * Replaces `failed`, a consumer kafkajs stopped or whose transaction failed; a stateful handler
   * rebuilds itself instead. One failure often reports twice (a failed commit, then the crash), and
   * a replaced consumer can still report late: only a failure of the current consumer counts.
   * Replacing its successor instead would stop that one mid-join, and kafkajs lets a join it was
   * told to stop complete anyway: a member nobody runs, which holds the group for a session timeout.
   */
  private recover(failed: KafkaConsumer): void {
    if (this.closed || this.recovering || failed !== this.consumer) return;
    this.recovering = this.replaceConsumer()
      .catch((err) => {
        // E.g. the broker still away after the client's retries: try again rather than stay stopped.
        this.logger.warn({ err: (err as Error).message }, 'consumer recovery failed; retrying');
        setTimeout(() => this.recover(this.consumer), RECOVERY_RETRY_MS);
      })
      .finally(() => {
        this.recovering = undefined;
      });
  }

  private async replaceConsumer(): Promise<void> {
    if (this.opts.onAbort) {
      this.opts.onAbort();
      return;
    }
    await this.consumer.disconnect().catch(() => {});
    await this.flushing?.catch(() => {});
    if (this.closed) return;
    // Before reading the committed offsets again, settle every transaction of ours: initialising a
    // transactional id waits until its last commit is complete (markers written, offsets stable)
    // or aborts it. kafkajs reads offsets without asking for stable ones, so a commit still
    // completing would otherwise read as the older offsets, and the replay would double outputs.
    for (const slot of this.slots) slot.broken = true;
    await this.renewBrokenProducers();
    // A read-only group commits nothing: its replacement continues where this one read to.
    if (this.opts.readOnly) for (const [key, next] of this.next) this.seekTo.set(key, String(next));
    this.next.clear();
    // A failed transaction may have committed after all: the replacement reads the (now stable)
    // commits instead.
    this.processedTo.clear();
    this.committedAt.clear();
    this.failed = false;
    this.consumer = this.makeConsumer();
    this.logger.warn('replacing the consumer; processing resumes from the committed offsets');
    await this.run(() => {}).catch((err) => {
      this.logger.error({ err: (err as Error).message }, 'consumer restart failed; retrying');
      setTimeout(() => this.recover(this.consumer), RECOVERY_RETRY_MS);
    });
  }

  ready(): Promise<void> {
    return this.joined;
  }

  emit(records: OutRecord[]): Promise<void> {
    if (this.opts.readOnly) return Promise.reject(new Error('a read-only consumer publishes nothing'));
    return this.transact(records);
  }

  /**
   * Queues `outputs` for the next transaction, which also commits every processed position (held
   * back by retained offsets). Transactions run one at a time; whatever accumulates meanwhile goes
   * into the next one, so the cost of a transaction is shared by all batches waiting for it.
   */
  private transact(outputs: OutRecord[]): Promise<void> {
    if (this.failed) return Promise.reject(new Error('an earlier commit failed; the consumer is recovering'));
    for (const o of outputs) this.pending.push(o);
    this.dirty = true;
    this.flushing ??= this.flushLoop().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async flushLoop(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      const outputs = this.pending;
      this.pending = [];
      const consumer = this.consumer;
      try {
        const offsets = this.offsets();
        await this.commit(outputs, offsets);
        for (const [topic, partitions] of offsets)
          for (const p of partitions) this.committedAt.set(`${topic}\u0000${p.partition}`, Number(p.offset));
        if (outputs.length) this.opts.committed?.(outputs);
      } catch (err) {
        this.logger.warn(
          { err: (err as Error).message },
          'transaction failed; uncommitted records will be processed again',
        );
        // Later batches must not commit past the lost ones: stop here and replay from the commits.
        this.failed = true;
        this.pending = [];
        this.dirty = false;
        setImmediate(() => this.recover(consumer));
        throw err;
      }
    }
  }

  private offsets(): Map<string, { partition: number; offset: string }[]> {
    const topics = new Map<string, { partition: number; offset: string }[]>();
    for (const [key, next] of this.next) {
      const [topic, p] = key.split('\u0000');
      const held = this.opts.retained?.(topic, Number(p));
      const offset = held === undefined ? next : Math.min(next, held);
      const list = topics.get(topic) ?? [];
      list.push({ partition: Number(p), offset: String(offset) });
      topics.set(topic, list);
    }
    return topics;
  }

  /** A producer whose transaction failed may be fenced or stuck: start a fresh one (same id). */
  private async renewBrokenProducers(): Promise<void> {
    for (const [index, slot] of this.slots.entries()) {
      if (!slot.broken) continue;
      await slot.tx.disconnect().catch(() => {});
      slot.tx = this.makeProducer(index);
      await slot.tx.connect();
      slot.broken = false;
    }
  }

  private async commit(outputs: OutRecord[], topics: Map<string, { partition: number; offset: string }[]>) {
    await this.renewBrokenProducers();
    const slot = this.slots[this.turn];
    this.turn = (this.turn + 1) % this.slots.length;
    slot.broken = true;
    const transaction = await slot.tx.transaction();
    try {
      // Records and offsets are independent requests of the transaction: send them at once, and
      // let both finish before deciding (an abort must not race a request still being retried).
      const sent = await Promise.allSettled([
        outputs.length ? transaction.sendBatch({ acks: -1, topicMessages: toTopicMessages(outputs) }) : null,
        topics.size ? this.sendOffsets(transaction, topics) : null,
      ]);
      for (const r of sent) if (r.status === 'rejected') throw r.reason;
      await transaction.commit();
      slot.broken = false;
    } catch (err) {
      await transaction.abort().catch(() => {});
      throw err;
    }
  }

  /**
   * Adds the offsets to the transaction. The coordinator refuses a transaction's first request
   * while it still writes the markers of this producer's previous one (CONCURRENT_TRANSACTIONS),
   * and a group coordinator answers that it is loading or moved while a broker starts; kafkajs
   * retries these when adding partitions but not here: wait briefly and retry.
   */
  private async sendOffsets(
    transaction: Awaited<ReturnType<KafkaProducer['transaction']>>,
    topics: Map<string, { partition: number; offset: string }[]>,
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await transaction.sendOffsets({
          consumerGroupId: this.opts.group,
          topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })),
        });
        return;
      } catch (err) {
        const e = err as { type?: string; cause?: { type?: string } };
        if (!OFFSETS_RETRIABLE.has(e.type ?? e.cause?.type ?? '') || attempt >= 50) throw err;
        await sleep(Math.min(100, 5 * 2 ** attempt));
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.recovering;
    await this.consumer.disconnect();
    await this.flushing?.catch(() => {});
    for (const s of this.slots) await s.tx.disconnect();
  }
}

/** Errors adding offsets to a transaction that clear by themselves (see sendOffsets). */
const OFFSETS_RETRIABLE = new Set([
  'CONCURRENT_TRANSACTIONS',
  'GROUP_LOAD_IN_PROGRESS',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR_FOR_GROUP',
]);

/** Metadata lags just after a topic is created or a broker restarts: try a few times. */
async function retry<T>(fn: () => Promise<T>, attempts = 20): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function toRecord(topic: string, partition: number, m: KafkaMessage): BusRecord {
  const headers: Headers = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (v === undefined) continue;
    const value = Array.isArray(v) ? v[v.length - 1] : v;
    headers[k] = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
  }
  return {
    topic,
    partition,
    offset: Number(m.offset),
    key: m.key ? m.key.toString('utf8') : '',
    value: m.value ?? Buffer.alloc(0),
    headers,
    timestamp: Number(m.timestamp),
  };
}

function toTopicMessages(records: OutRecord[]) {
  const byTopic = new Map<string, { key: string; value: Buffer; headers?: Headers; partition?: number }[]>();
  for (const r of records) {
    const list = byTopic.get(r.topic) ?? [];
    list.push({ key: r.key, value: r.value, headers: r.headers, partition: r.partition });
    byTopic.set(r.topic, list);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}
