import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BusRecord, ConsumeOptions, OutRecord } from '../../../src/runtime/bus/bus.ts';
import { CopartitionedAssigner } from '../../../src/runtime/bus/copartitioned-assigner.ts';
import { KafkaBus } from '../../../src/runtime/bus/kafka-bus.ts';
import { CLIENT_RETRY, RECOVERY_RETRY_MS } from '../../../src/runtime/bus/kafka-recovery.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * kafkajs stand-ins that record every call in one ordered log: the bus is tested against the
 * calls it makes, with batches and group joins driven by the test.
 */
const fake = vi.hoisted(() => {
  type Args = Record<string, unknown>;
  const world = {
    log: [] as string[],
    configs: [] as Args[],
    admins: [] as FakeAdmin[],
    producers: [] as FakeProducer[],
    consumers: [] as FakeConsumer[],
    /** Fails the next transaction commit with this error. */
    failCommit: undefined as Error | undefined,
    /** Errors the next attempts to add offsets to a transaction fail with. */
    failOffsets: [] as Error[],
    /** Outcomes of the next idempotent sends: an error fails that send. */
    sends: [] as (Error | undefined)[],
    committed: [] as { topic: string; partitions: { partition: number; offset: string }[] }[],
    ends: {} as Record<string, { partition: number; high: string }[]>,
    byTime: {} as Record<string, { partition: number; offset: string }[]>,
  };

  class FakeAdmin {
    constructor() {
      world.admins.push(this);
    }
    connect = async () => void world.log.push('admin.connect');
    disconnect = async () => void world.log.push('admin.disconnect');
    createTopics = async (args: Args) => {
      world.log.push(`admin.createTopics ${JSON.stringify(args)}`);
      return true;
    };
    fetchOffsets = async (args: { groupId: string; topics: string[] }) => {
      world.log.push(`admin.fetchOffsets ${args.groupId}`);
      return world.committed.filter((c) => args.topics.includes(c.topic));
    };
    fetchTopicOffsets = async (topic: string) => world.ends[topic] ?? [];
    /** Every topic asked for has one partition with a leader. */
    fetchTopicMetadata = async (args: { topics: string[] }) => ({
      topics: args.topics.map((name) => ({ name, partitions: [{ partitionId: 0, leader: 0 }] })),
    });
    fetchTopicOffsetsByTimestamp = async (topic: string) => world.byTime[topic] ?? [];
    deleteGroups = async (groups: string[]) => void world.log.push(`admin.deleteGroups ${groups.length}`);
  }

  class FakeProducer {
    readonly id: number;
    constructor(readonly config: Args) {
      this.id = world.producers.push(this) - 1;
    }
    private get name() {
      return this.config.transactionalId ? `tx${this.id}` : 'producer';
    }
    connect = async () => void world.log.push(`${this.name}.connect`);
    disconnect = async () => void world.log.push(`${this.name}.disconnect`);
    sendBatch = async (args: Args) => {
      world.log.push(`${this.name}.sendBatch ${JSON.stringify(args)}`);
      const err = world.sends.shift();
      if (err) throw err;
    };
    transaction = async () => {
      world.log.push(`${this.name}.transaction`);
      return {
        sendBatch: async (args: Args) => void world.log.push(`${this.name}.send ${JSON.stringify(args)}`),
        sendOffsets: async (args: Args) => {
          const err = world.failOffsets.shift();
          if (err) throw err;
          world.log.push(`${this.name}.sendOffsets ${JSON.stringify(args)}`);
        },
        commit: async () => {
          const err = world.failCommit;
          world.failCommit = undefined;
          if (err) throw err;
          world.log.push(`${this.name}.commit`);
        },
        abort: async () => void world.log.push(`${this.name}.abort`),
      };
    };
  }

  type Batch = { topic: string; partition: number; messages: Record<string, unknown>[] };
  type EachBatch = (p: {
    batch: Batch;
    resolveOffset(o: string): void;
    heartbeat(): Promise<void>;
  }) => Promise<void>;

  class FakeConsumer {
    readonly id: number;
    readonly events = { CRASH: 'consumer.crash', GROUP_JOIN: 'consumer.group_join' };
    private readonly listeners = new Map<string, ((e: unknown) => void)[]>();
    eachBatch?: EachBatch;
    constructor(readonly config: Args) {
      this.id = world.consumers.push(this) - 1;
    }
    connect = async () => void world.log.push(`consumer${this.id}.connect`);
    disconnect = async () => void world.log.push(`consumer${this.id}.disconnect`);
    on = (event: string, cb: (e: unknown) => void) =>
      this.listeners.set(event, [...(this.listeners.get(event) ?? []), cb]);
    subscribe = async (args: Args) =>
      void world.log.push(`consumer${this.id}.subscribe ${JSON.stringify(args)}`);
    run = async (args: Args & { eachBatch: EachBatch }) => {
      const { eachBatch, ...rest } = args;
      this.eachBatch = eachBatch;
      world.log.push(`consumer${this.id}.run ${JSON.stringify(rest)}`);
    };
    seek = (args: Args) => void world.log.push(`consumer${this.id}.seek ${JSON.stringify(args)}`);
    /** The group coordinator assigned these partitions. */
    join(memberAssignment: Record<string, number[]>) {
      for (const cb of this.listeners.get(this.events.GROUP_JOIN) ?? [])
        cb({ payload: { memberAssignment } });
    }
    /** kafkajs stopped this consumer (restarting is off). */
    crash(message: string) {
      for (const cb of this.listeners.get(this.events.CRASH) ?? [])
        cb({ payload: { error: new Error(message) } });
    }
    /** kafkajs hands over a batch; returns the offsets resolved and whether it threw. */
    async deliver(batch: Batch) {
      const resolved: string[] = [];
      let heartbeats = 0;
      const result = this.eachBatch?.({
        batch,
        resolveOffset: (o) => resolved.push(o),
        heartbeat: async () => void heartbeats++,
      });
      const error = await result?.then(
        () => undefined,
        (e: Error) => e,
      );
      return { resolved, heartbeats, error };
    }
  }

  class FakeKafka {
    constructor(config: Args) {
      world.configs.push(config);
    }
    admin = () => new FakeAdmin();
    producer = (config: Args) => new FakeProducer(config);
    consumer = (config: Args) => new FakeConsumer(config);
  }

  return { world, FakeKafka };
});

vi.mock('kafkajs', async (importOriginal) => ({
  ...(await importOriginal<typeof import('kafkajs')>()),
  Kafka: fake.FakeKafka,
}));

const world = fake.world;
const silent = pino({ level: 'silent' });
let bus: KafkaBus;

beforeEach(() => {
  world.log = [];
  world.configs = [];
  world.admins = [];
  world.producers = [];
  world.consumers = [];
  world.failCommit = undefined;
  world.sends = [];
  world.committed = [];
  world.ends = {};
  world.byTime = {};
  bus = new KafkaBus({
    brokers: ['k1:9092', 'k2:9092'],
    instanceId: 'pod-0',
    partitions: 3,
    replicationFactor: 2,
    logger: silent,
  });
});
// Closing stops recoveries still under way, so none reaches into the next test's fakes.
afterEach(() => bus.close());

const out = (topic: string, key: string, value: string, extra: Partial<OutRecord> = {}): OutRecord => ({
  topic,
  key,
  value: Buffer.from(value),
  ...extra,
});
/** What a sendBatch call carried, as logged (Buffers appear in their JSON form). */
const batchOf = (records: OutRecord[]) => {
  const byTopic = new Map<string, unknown[]>();
  for (const r of records)
    byTopic.set(r.topic, [
      ...(byTopic.get(r.topic) ?? []),
      { key: r.key, value: r.value, headers: r.headers, partition: r.partition },
    ]);
  return JSON.stringify({
    acks: -1,
    topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
  });
};
const message = (offset: number, key: string, value: string, headers: Record<string, unknown> = {}) => ({
  offset: String(offset),
  key: Buffer.from(key),
  value: Buffer.from(value),
  headers,
  timestamp: String(1_700_000_000_000 + offset),
});

async function consume(opts: Partial<ConsumeOptions> & { process: ConsumeOptions['process'] }) {
  const consumer = await bus.consume({ group: 'g1', topics: ['in'], fromBeginning: true, ...opts });
  return { consumer, kafka: world.consumers[world.consumers.length - 1] };
}

describe('KafkaBus', () => {
  it('connects to the given brokers with bounded retries', () => {
    expect(world.configs).toEqual([
      expect.objectContaining({
        clientId: 'mlops-runtime',
        brokers: ['k1:9092', 'k2:9092'],
        retry: CLIENT_RETRY,
      }),
    ]);
  });

  it('creates each missing topic once, with the configured partitions and replication', async () => {
    await bus.ensureTopics(['a', 'b', 'a']);
    await bus.ensureTopics(['a', 'b']);
    await bus.ensureTopics(['b', 'c']);
    const topic = (name: string) => ({ topic: name, numPartitions: 3, replicationFactor: 2 });
    expect(world.log).toEqual([
      'admin.connect',
      `admin.createTopics ${JSON.stringify({ waitForLeaders: false, topics: [topic('a'), topic('b')] })}`,
      `admin.createTopics ${JSON.stringify({ waitForLeaders: false, topics: [topic('c')] })}`,
    ]);
  });

  it('publishes through one idempotent producer, acks=all, grouped by topic', async () => {
    const records = [
      out('t1', 'k1', 'v1', { headers: { 'x-request-id': 'r1' } }),
      out('t2', 'k2', 'v2', { partition: 1 }),
      out('t1', 'k3', 'v3'),
    ];
    await bus.publish(records);
    await bus.publish([]);
    expect(world.producers.map((p) => p.config)).toEqual([
      expect.objectContaining({ idempotent: true, maxInFlightRequests: 1 }),
    ]);
    expect(world.producers[0].config.transactionalId).toBeUndefined();
    expect(world.log).toEqual(['producer.connect', `producer.sendBatch ${batchOf(records)}`]);
  });

  it('sends records published during a send together in the next one, and fails only that send', async () => {
    world.sends = [undefined, new Error('broker down')];
    const first = bus.publish([out('t', 'a', '1')]);
    const second = bus.publish([out('t', 'b', '2')]);
    const third = bus.publish([out('t', 'c', '3')]);
    await expect(first).resolves.toBeUndefined();
    await expect(second).rejects.toThrow('broker down');
    await expect(third).rejects.toThrow('broker down');
    expect(world.log.filter((l) => l.includes('sendBatch'))).toEqual([
      `producer.sendBatch ${batchOf([out('t', 'a', '1')])}`,
      `producer.sendBatch ${batchOf([out('t', 'b', '2'), out('t', 'c', '3')])}`,
    ]);
    await bus.publish([out('t', 'd', '4')]);
  });

  it('consumes with a transactional producer per group, in the co-partitioned group, reading committed only', async () => {
    const { consumer, kafka } = await consume({ process: () => [] });
    let ready = false;
    void consumer.ready().then(() => {
      ready = true;
    });
    expect(kafka.config).toEqual(
      expect.objectContaining({
        groupId: 'g1',
        readUncommitted: false,
        partitionAssigners: [CopartitionedAssigner],
      }),
    );
    // Transactional producers taken in turn, each retrying without a bound (see PRODUCER_SLOTS).
    for (const [i, p] of world.producers.entries()) {
      expect(p.config).toEqual(
        expect.objectContaining({
          transactionalId: `g1-pod-0-${i}`,
          idempotent: true,
          maxInFlightRequests: 1,
        }),
      );
      expect((p.config.retry as { retries: number }).retries).toBe(Number.MAX_SAFE_INTEGER);
    }
    expect(world.producers).toHaveLength(3);
    expect(world.log).toEqual([
      'tx0.connect',
      'tx1.connect',
      'tx2.connect',
      'consumer0.connect',
      `consumer0.subscribe ${JSON.stringify({ topics: ['in'], fromBeginning: true })}`,
      `consumer0.run ${JSON.stringify({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 8 })}`,
    ]);
    await Promise.resolve();
    expect(ready).toBe(false);
    kafka.join({ in: [0] });
    await consumer.ready();
  });

  it('hands records over decoded and commits outputs with the next offsets in one transaction', async () => {
    const seen: BusRecord[][] = [];
    const outputs = [out('next', 'k', 'r', { headers: { 'x-a': '1' }, partition: 2 })];
    const { kafka } = await consume({
      process: (records) => {
        seen.push(records);
        return outputs;
      },
    });
    kafka.join({ in: [2] });
    world.log = [];
    const result = await kafka.deliver({
      topic: 'in',
      partition: 2,
      messages: [
        message(7, 'k7', 'v7', {
          'x-request-id': Buffer.from('r7'),
          multi: [Buffer.from('a'), Buffer.from('b')],
        }),
        message(8, 'k8', 'v8', { gone: undefined }),
        { offset: '9', key: null, value: null, timestamp: '5' },
      ],
    });
    expect(result).toEqual({ resolved: ['9'], heartbeats: 1, error: undefined });
    expect(seen).toEqual([
      [
        {
          topic: 'in',
          partition: 2,
          offset: 7,
          key: 'k7',
          value: Buffer.from('v7'),
          headers: { 'x-request-id': 'r7', multi: 'b' },
          timestamp: 1_700_000_000_007,
        },
        {
          topic: 'in',
          partition: 2,
          offset: 8,
          key: 'k8',
          value: Buffer.from('v8'),
          headers: {},
          timestamp: 1_700_000_000_008,
        },
        { topic: 'in', partition: 2, offset: 9, key: '', value: Buffer.alloc(0), headers: {}, timestamp: 5 },
      ],
    ]);
    expect(world.log).toEqual([
      'tx0.transaction',
      `tx0.send ${batchOf(outputs)}`,
      `tx0.sendOffsets ${JSON.stringify({ consumerGroupId: 'g1', topics: [{ topic: 'in', partitions: [{ partition: 2, offset: '10' }] }] })}`,
      'tx0.commit',
    ]);
  });

  it('never commits past a record the handler still holds, and commits offsets alone when there is no output', async () => {
    let held: number | undefined = 3;
    const { kafka } = await consume({ process: () => [], retained: (_t, p) => (p === 0 ? held : undefined) });
    kafka.join({ in: [0, 1] });
    world.log = [];
    await kafka.deliver({
      topic: 'in',
      partition: 0,
      messages: [message(3, 'a', '1'), message(4, 'b', '2')],
    });
    held = undefined;
    await kafka.deliver({ topic: 'in', partition: 1, messages: [message(0, 'c', '3')] });
    const offsets = (partitions: { partition: number; offset: string }[], tx = 'tx0') =>
      `${tx}.sendOffsets ${JSON.stringify({ consumerGroupId: 'g1', topics: [{ topic: 'in', partitions }] })}`;
    // Consecutive transactions use different producers: the second need not wait for the first's markers.
    expect(world.log).toEqual([
      'tx0.transaction',
      offsets([{ partition: 0, offset: '3' }]),
      'tx0.commit',
      'tx1.transaction',
      offsets(
        [
          { partition: 0, offset: '5' },
          { partition: 1, offset: '1' },
        ],
        'tx1',
      ),
      'tx1.commit',
    ]);
  });

  it('emit publishes outside a batch in a transaction with the consumed positions', async () => {
    const { consumer, kafka } = await consume({ process: () => [] });
    kafka.join({ in: [0] });
    await kafka.deliver({ topic: 'in', partition: 0, messages: [message(0, 'a', '1')] });
    world.log = [];
    const late = [out('joined', 'k', 'v')];
    await consumer.emit(late);
    expect(world.log).toEqual([
      'tx1.transaction',
      `tx1.send ${batchOf(late)}`,
      `tx1.sendOffsets ${JSON.stringify({ consumerGroupId: 'g1', topics: [{ topic: 'in', partitions: [{ partition: 0, offset: '1' }] }] })}`,
      'tx1.commit',
    ]);
  });

  it('aborts a failed transaction, does not resolve the batch, and resumes from the commits on a fresh consumer and producer', async () => {
    const { consumer, kafka } = await consume({ process: () => [out('o', 'k', 'v')] });
    kafka.join({ in: [0] });
    world.log = [];
    world.failCommit = new Error('fenced');
    const failed = await kafka.deliver({ topic: 'in', partition: 0, messages: [message(0, 'a', '1')] });
    expect(failed.error?.message).toBe('fenced');
    expect(failed.resolved).toEqual([]);
    expect(world.log.slice(0, 4)).toEqual([
      'tx0.transaction',
      `tx0.send ${batchOf([out('o', 'k', 'v')])}`,
      `tx0.sendOffsets ${JSON.stringify({ consumerGroupId: 'g1', topics: [{ topic: 'in', partitions: [{ partition: 0, offset: '1' }] }] })}`,
      'tx0.abort',
    ]);
    await expect(consumer.emit([])).rejects.toThrow('an earlier commit failed');
    // The consumer is replaced (processing restarts from the committed offsets), but only after
    // every producer was renewed under the same id, which settles each one's last transaction.
    await vi.waitFor(() => expect(world.consumers).toHaveLength(2));
    const replacement = world.consumers[1];
    await vi.waitFor(() => expect(replacement.eachBatch).toBeDefined());
    const order = [
      'consumer0.disconnect',
      'tx0.disconnect',
      'tx3.connect',
      'tx1.disconnect',
      'tx4.connect',
      'tx2.disconnect',
      'tx5.connect',
      'consumer1.connect',
    ];
    expect(world.log.filter((l) => order.includes(l))).toEqual(order);
    expect(world.producers.slice(3).map((p) => p.config.transactionalId)).toEqual([
      'g1-pod-0-0',
      'g1-pod-0-1',
      'g1-pod-0-2',
    ]);
    replacement.join({ in: [0] });
    world.log = [];
    const retried = await replacement.deliver({
      topic: 'in',
      partition: 0,
      messages: [message(0, 'a', '1')],
    });
    expect(retried.resolved).toEqual(['0']);
    expect(world.log[0]).toBe('tx4.transaction');
    expect(world.log.at(-1)).toBe('tx4.commit');
  });

  it('after a rebalance, skips what its own commits cover when kafkajs reads the older commit again', async () => {
    const seen: number[] = [];
    const { kafka } = await consume({
      process: (records) => {
        seen.push(...records.map((r) => r.offset));
        return records.map((r) => out('o', r.key, 'v'));
      },
    });
    kafka.join({ in: [0] });
    await kafka.deliver({
      topic: 'in',
      partition: 0,
      messages: [message(0, 'a', '1'), message(1, 'b', '2')],
    });
    // The group rebalanced while the commit's markers were still being written: the position
    // read back is the older one, and offsets 0 and 1 come again.
    kafka.join({ in: [0] });
    world.log = [];
    const replay = await kafka.deliver({
      topic: 'in',
      partition: 0,
      messages: [message(0, 'a', '1'), message(1, 'b', '2'), message(2, 'c', '3')],
    });
    expect(seen).toEqual([0, 1, 2]);
    expect(replay.resolved).toEqual(['2']);
    expect(world.log.filter((l) => l.includes('.send '))).toEqual([
      `tx1.send ${batchOf([out('o', 'c', 'v')])}`,
    ]);
    // A batch wholly covered is resolved without processing or a transaction.
    kafka.join({ in: [0] });
    world.log = [];
    const covered = await kafka.deliver({ topic: 'in', partition: 0, messages: [message(2, 'c', '3')] });
    expect(covered.resolved).toEqual(['2']);
    expect(seen).toEqual([0, 1, 2]);
    expect(world.log).toEqual([]);
  });

  it('commits a position a join released only together with the output that consumed it', async () => {
    let held: number | undefined;
    const consumer: { emit(r: OutRecord[]): Promise<void> } = await bus.consume({
      group: 'g1',
      topics: ['in', 'side'],
      fromBeginning: true,
      retained: (topic) => (topic === 'in' ? held : undefined),
      process: (records) => {
        if (records[0].topic === 'in') {
          held = records[0].offset;
          return [];
        }
        // The other side arrives: the join completes and releases `in`'s record. Anything
        // else that starts a transaction right after (another partition's batch) must not
        // commit that position without this output.
        held = undefined;
        queueMicrotask(() => void consumer.emit([]).catch(() => {}));
        return [out('o', 'k', 'joined')];
      },
    });
    const kafka = world.consumers[world.consumers.length - 1];
    kafka.join({ in: [0], side: [0] });
    await kafka.deliver({ topic: 'in', partition: 0, messages: [message(5, 'k', 'a')] });
    world.log = [];
    await kafka.deliver({ topic: 'side', partition: 0, messages: [message(0, 'k', 'b')] });
    await vi.waitFor(() => expect(world.log.filter((l) => l.endsWith('.commit')).length).toBeGreaterThan(0));
    // The transaction that first commits `in` past offset 5 carries the joined output.
    const transactions = world.log
      .join('\n')
      .split(/tx\d+\.transaction/)
      .slice(1);
    const releasing = transactions.find((t) =>
      /"topic":"in","partitions":\[\{"partition":0,"offset":"6"/.test(t),
    );
    expect(releasing).toContain(batchOf([out('o', 'k', 'joined')]));
  });

  it('replaces a consumer once per failure: a late crash of a replaced consumer leaves its successor running', async () => {
    const { kafka } = await consume({ process: () => [out('o', 'k', 'v')] });
    kafka.join({ in: [0] });
    world.failCommit = new Error('coordinator moved');
    await kafka.deliver({ topic: 'in', partition: 0, messages: [message(0, 'a', '1')] });
    // The same failure also stops the consumer: kafkajs reports it as a crash.
    kafka.crash('coordinator moved');
    await vi.waitFor(() => expect(world.consumers).toHaveLength(2));
    const successor = world.consumers[1];
    await vi.waitFor(() => expect(successor.eachBatch).toBeDefined());
    // A stopped join of the replaced consumer completing late reports once more.
    kafka.crash('Closed connection');
    await sleep(3 * RECOVERY_RETRY_MS);
    expect(world.consumers).toHaveLength(2);
    expect(world.log).not.toContain('consumer1.disconnect');
    // A failure of the successor itself still replaces it.
    successor.crash('Closed connection');
    await vi.waitFor(() => expect(world.consumers).toHaveLength(3));
    expect(world.log).toContain('consumer1.disconnect');
  });

  it('tells a stateful handler to rebuild instead of replacing the consumer after a failed commit', async () => {
    const onAbort = vi.fn();
    const { kafka } = await consume({ process: () => [], onAbort });
    kafka.join({ in: [0] });
    world.failCommit = new Error('timeout');
    await kafka.deliver({ topic: 'in', partition: 0, messages: [message(0, 'a', '1')] });
    await vi.waitFor(() => expect(onAbort).toHaveBeenCalledTimes(1));
    expect(world.consumers).toHaveLength(1);
  });

  it('retries adding offsets while the coordinator finishes the previous transaction', async () => {
    const { kafka } = await consume({ process: () => [] });
    kafka.join({ in: [0] });
    world.log = [];
    const busy = Object.assign(new Error('concurrent transactions'), { type: 'CONCURRENT_TRANSACTIONS' });
    world.failOffsets = [busy, busy];
    const result = await kafka.deliver({ topic: 'in', partition: 0, messages: [message(0, 'a', '1')] });
    expect(result).toEqual({ resolved: ['0'], heartbeats: 1, error: undefined });
    expect(world.log.filter((l) => l.startsWith('tx0.sendOffsets'))).toHaveLength(1);
    expect(world.log.at(-1)).toBe('tx0.commit');
    // Any other error fails the transaction.
    world.failOffsets = [new Error('fenced')];
    const failed = await kafka.deliver({ topic: 'in', partition: 0, messages: [message(1, 'b', '2')] });
    expect(failed.error?.message).toBe('fenced');
  });

  it('a read-only consumer resolves batches without producers or transactions', async () => {
    const seen: number[] = [];
    const { consumer, kafka } = await consume({
      readOnly: true,
      process: (records) => {
        seen.push(...records.map((r) => r.offset));
        return [];
      },
    });
    kafka.join({ in: [0] });
    const result = await kafka.deliver({ topic: 'in', partition: 0, messages: [message(4, 'a', '1')] });
    expect(result.resolved).toEqual(['4']);
    expect(seen).toEqual([4]);
    expect(world.producers).toHaveLength(0);
    expect(world.log.some((l) => l.startsWith('tx'))).toBe(false);
    await expect(consumer.emit([out('o', 'k', 'v')])).rejects.toThrow('read-only');
  });

  it('starts a new group at the current end of each partition; a group with commits resumes from them', async () => {
    world.ends.in = [
      { partition: 0, high: '5' },
      { partition: 1, high: '9' },
    ];
    world.committed = [{ topic: 'in', partitions: [{ partition: 0, offset: '-1' }] }];
    const fresh = await consume({ fromBeginning: false, process: () => [] });
    fresh.kafka.join({ in: [1] });
    expect(world.log.filter((l) => l.includes('seek'))).toEqual([
      `consumer0.seek ${JSON.stringify({ topic: 'in', partition: 1, offset: '9' })}`,
    ]);
    // The start position is committed at once, so a later rebalance does not read from offset 0.
    await vi.waitFor(() =>
      expect(world.log).toContain(
        `tx0.sendOffsets ${JSON.stringify({ consumerGroupId: 'g1', topics: [{ topic: 'in', partitions: [{ partition: 1, offset: '9' }] }] })}`,
      ),
    );
    // Seeks apply to the first assignment only; a rebalance resumes from the commits.
    fresh.kafka.join({ in: [0, 1] });
    expect(world.log.filter((l) => l.includes('seek'))).toHaveLength(1);

    world.committed = [{ topic: 'in', partitions: [{ partition: 0, offset: '3' }] }];
    const resumed = await consume({ group: 'g2', fromBeginning: false, process: () => [] });
    resumed.kafka.join({ in: [0, 1] });
    expect(world.log.filter((l) => l.includes('consumer1.seek'))).toEqual([]);
  });

  it('reads a topic back from a time: seeks each partition, stops at the end, drops older records, removes its group', async () => {
    world.byTime.state = [
      { partition: 0, offset: '2' },
      { partition: 1, offset: '-1' },
    ];
    world.ends.state = [
      { partition: 0, high: '4' },
      { partition: 1, high: '7' },
    ];
    const reading = bus.readSince('state', 1_700_000_000_003);
    await vi.waitFor(() => expect(world.consumers[0]?.eachBatch).toBeDefined());
    const reader = world.consumers[0];
    expect(reader.config).toEqual(expect.objectContaining({ readUncommitted: false }));
    reader.join({ state: [0, 1] });
    await reader.deliver({
      topic: 'state',
      partition: 0,
      messages: [message(2, 'a', 'x'), message(3, 'b', 'y')],
    });
    const records = await reading;
    expect(records.map((r) => [r.partition, r.offset, r.key])).toEqual([[0, 3, 'b']]);
    expect(world.log.filter((l) => l.includes('seek'))).toEqual([
      `consumer0.seek ${JSON.stringify({ topic: 'state', partition: 0, offset: '2' })}`,
    ]);
    expect(world.log.slice(-2)).toEqual(['consumer0.disconnect', 'admin.deleteGroups 1']);
  });

  it('closes consumers, then the producer and the admin client', async () => {
    await bus.ensureTopics(['t']);
    await bus.publish([out('t', 'k', 'v')]);
    const { kafka } = await consume({ process: () => [] });
    kafka.join({ in: [0] });
    world.log = [];
    await bus.close();
    expect(world.log).toEqual([
      'consumer0.disconnect',
      'tx1.disconnect',
      'tx2.disconnect',
      'tx3.disconnect',
      'producer.disconnect',
      'admin.disconnect',
    ]);
  });
});
