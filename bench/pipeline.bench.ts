// A 3-step pipeline over Kafka (pipeline gateway → engine → model gateway ×3 → back) next to a raw
// kafkajs produce→consume round trip on the same broker, same concurrency, same run. Models are an
// in-process echo so the figures are the data plane's own cost. Every path stays connected for the
// whole run and the paths' runs alternate, so drifting load on the machine hits them alike.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import pino from 'pino';
import { KafkaBus } from '../src/runtime/bus/kafka-bus.ts';
import { PipelineEngine } from '../src/runtime/dataflow/engine.ts';
import type { ModelClient } from '../src/runtime/dataflow/model-client.ts';
import { ModelGateway } from '../src/runtime/dataflow/model-gateway.ts';
import { PipelineGateway } from '../src/runtime/dataflow/pipeline-gateway.ts';
import { planPipeline } from '../src/runtime/dataflow/plan.ts';
import { decodeRequest, encodeRequest, encodeResponse } from '../src/runtime/oip/messages.ts';
import { DEFAULT_NAMING } from '../src/spec/topics.ts';
import { startKafka } from '../test/e2e/harness/kafka.ts';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 6_000);
/** Runs of each path at each level; figures are medians over them. */
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const TARGET = 0.5;
/** Concurrent callers per run; both paths are measured at every level. */
const LEVELS = (process.env.BENCH_CONCURRENCY ?? '32,256,512').split(',').map(Number);
const logger = pino({ level: 'silent' });

interface Result {
  rps: number;
  p50: number;
  p99: number;
}

async function load(concurrency: number, send: () => Promise<void>): Promise<Result> {
  const warmEnd = Date.now() + 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < warmEnd) await send();
    }),
  );
  const latencies: number[] = [];
  const started = performance.now();
  const end = started + DURATION_MS;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await send();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99) };
}

const echo: ModelClient = {
  async infer(model, request) {
    const req = decodeRequest(request);
    return encodeResponse({
      modelName: model,
      id: req.id,
      outputs: req.inputs,
      rawOutputContents: req.rawInputContents,
    });
  },
  close() {},
};

const REQUEST = encodeRequest({
  modelName: 'p3',
  inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], contents: { fp32Contents: [1, 2, 3, 4] } }],
});

type Send = () => Promise<void>;

/** Raw kafkajs round trips: `single` makes one `producer.send` per message, as a caller would write
 * it; `coalesced` sends the messages of concurrent callers together while a send is in flight (as
 * the pipeline gateway does), which is what the broker can carry for one produce→consume hop. */
async function rawRoundTrip(
  brokers: string[],
): Promise<{ single: Send; coalesced: Send; close: () => Promise<void> }> {
  const kafka = new Kafka({ clientId: 'bench-raw', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'bench.raw', numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const consumer = kafka.consumer({ groupId: `bench-raw-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: ['bench.raw'], fromBeginning: false });
  const waiters = new Map<string, () => void>();
  const joined = new Promise<void>((r) => consumer.on(consumer.events.GROUP_JOIN, () => r()));
  await consumer.run({
    eachMessage: async ({ message }) => {
      const key = message.key?.toString() ?? '';
      waiters.get(key)?.();
      waiters.delete(key);
    },
  });
  await joined;
  await new Promise((r) => setTimeout(r, 1000));
  const roundTrip = async (send: (key: string) => Promise<void>) => {
    const key = randomUUID();
    const arrived = new Promise<void>((r) => waiters.set(key, r));
    await send(key);
    await arrived;
  };
  let outbox: { key: string; done: () => void; failed: (err: Error) => void }[] = [];
  let sending = false;
  const drain = async () => {
    sending = true;
    while (outbox.length) {
      const group = outbox;
      outbox = [];
      try {
        await producer.send({
          topic: 'bench.raw',
          acks: -1,
          messages: group.map((g) => ({ key: g.key, value: REQUEST })),
        });
        for (const g of group) g.done();
      } catch (err) {
        for (const g of group) g.failed(err as Error);
      }
    }
    sending = false;
  };
  const coalescedSend = (key: string) =>
    new Promise<void>((done, failed) => {
      outbox.push({ key, done, failed });
      if (!sending) void drain();
    });
  return {
    single: () =>
      roundTrip(async (key) => {
        await producer.send({ topic: 'bench.raw', acks: -1, messages: [{ key, value: REQUEST }] });
      }),
    coalesced: () => roundTrip(coalescedSend),
    close: async () => {
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}

async function pipeline(brokers: string[]): Promise<{ send: Send; close: () => Promise<void> }> {
  const bus = new KafkaBus({ brokers, logger, instanceId: 'bench' });
  const spec = {
    steps: [{ name: 's1' }, { name: 's2', inputs: ['s1'] }, { name: 's3', inputs: ['s2'] }],
    output: { steps: ['s3'] },
  };
  const engine = new PipelineEngine(planPipeline('p3', spec, DEFAULT_NAMING), bus, DEFAULT_NAMING, logger);
  const models = new ModelGateway(bus, DEFAULT_NAMING, ['s1', 's2', 's3'], echo, logger);
  const gateway = new PipelineGateway(bus, DEFAULT_NAMING, ['p3'], logger, 60_000);
  await engine.start();
  await models.start();
  await gateway.start();
  return {
    send: async () => {
      await gateway.infer('p3', REQUEST, {});
    },
    close: async () => {
      await gateway.stop();
      await models.stop();
      await engine.stop();
      await bus.close();
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const medianResult = (rs: Result[]): Result => ({
  rps: median(rs.map((r) => r.rps)),
  p50: median(rs.map((r) => r.p50)),
  p99: median(rs.map((r) => r.p99)),
});

type PathName = 'single' | 'coalesced' | 'pipeline';
const PATHS: PathName[] = ['single', 'coalesced', 'pipeline'];

/** Median result per path and level; each repeat runs every path once, starting from a different one. */
async function measure(paths: Record<PathName, Send>): Promise<Record<PathName, Result[]>> {
  const medians: Record<PathName, Result[]> = { single: [], coalesced: [], pipeline: [] };
  for (const level of LEVELS) {
    const runs: Record<PathName, Result[]> = { single: [], coalesced: [], pipeline: [] };
    for (let rep = 0; rep < REPEATS; rep++) {
      for (let i = 0; i < PATHS.length; i++) {
        const name = PATHS[(rep + i) % PATHS.length];
        runs[name].push(await load(level, paths[name]));
      }
    }
    for (const name of PATHS) medians[name].push(medianResult(runs[name]));
  }
  return medians;
}

const title = '## Pipeline: 3 steps over Kafka vs a raw kafkajs round trip';
let kafka: Awaited<ReturnType<typeof startKafka>> | undefined;
try {
  kafka = await startKafka();
} catch (err) {
  process.stdout.write(`${title}\n\nnot run: ${(err as Error).message.split('\n')[0]}\n`);
  process.exit(0);
}
try {
  const raw = await rawRoundTrip(kafka.brokers);
  const pipe = await pipeline(kafka.brokers);
  const results = await measure({ single: raw.single, coalesced: raw.coalesced, pipeline: pipe.send });
  await pipe.close();
  await raw.close();
  process.stdout.write(report(results));
} finally {
  await kafka.stop();
}

function report(r: Record<PathName, Result[]>): string {
  const f = (n: number) => n.toFixed(1);
  const peak = (rs: Result[]) => Math.max(...rs.map((x) => x.rps));
  const ratio = peak(r.pipeline) / peak(r.coalesced);
  const row = (path: string, rs: Result[]) =>
    LEVELS.map((c, i) => `| ${path} | ${c} | ${rs[i].rps.toFixed(0)} | ${f(rs[i].p50)} | ${f(rs[i].p99)} |`);
  const perLevel = (base: Result[]) =>
    LEVELS.map((c, i) => `${(r.pipeline[i].rps / base[i].rps).toFixed(2)} at ${c}`).join(', ');
  return [
    title,
    '',
    `Closed loop at ${LEVELS.join(', ')} concurrent callers, ${DURATION_MS / 1000} s per run after a 1 s warm-up, single local broker (KRaft), topics with 1 partition. Each path runs ${REPEATS} times at each level, the paths' runs alternating (all stay connected throughout); figures are the medians of those runs. The pipeline path is pipeline gateway → input topic → engine → 3 × (model input topic → model gateway → echo model → model output topic → engine) → output topic → pipeline gateway: one idempotent publish, then 7 Kafka transactions in sequence (exactly-once), each committing a whole batch. The raw path is a kafkajs idempotent produce (acks=all) and a consume, with concurrent messages coalesced into one send (what the broker carries for one hop, and the baseline the target is judged against) or, for reference, one send per message.`,
    '',
    '| path | callers | req/s | p50 ms | p99 ms |',
    '|---|---|---|---|---|',
    ...row('raw kafkajs produce → consume, coalesced sends (baseline)', r.coalesced),
    ...row('raw kafkajs produce → consume, one send per message (reference)', r.single),
    ...row('3-step pipeline, synchronous', r.pipeline),
    '',
    `Same callers, pipeline / raw coalesced: ${perLevel(r.coalesced)}; pipeline / raw one send per message (reference only): ${perLevel(r.single)}.`,
    '',
    `Best pipeline throughput over the best raw coalesced throughput (any number of callers): **${ratio.toFixed(2)}** (target ≥ ${TARGET}: ${ratio >= TARGET ? 'met' : 'not met'}).`,
    '',
  ].join('\n');
}
