// Synchronous pipelines over Kafka (a 3-step chain and a join gated by a trigger) next to a raw
// kafkajs produce→consume round trip on the same broker, same concurrency, same run, with the
// targets each is judged by. Models are an in-process echo so the figures are the data plane's own
// cost. Every path stays connected for the whole run and the paths' runs alternate, so drifting
// load on the machine hits them alike.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import pino from 'pino';
import { KafkaBus } from '../src/runtime/bus/kafka-bus.ts';
import { LivePipelines } from '../src/runtime/dataflow/live-pipelines.ts';
import { DataflowMetrics } from '../src/runtime/dataflow/metrics.ts';
import type { ModelClient } from '../src/runtime/dataflow/model-client.ts';
import { ModelGateway } from '../src/runtime/dataflow/model-gateway.ts';
import { PipelineGateway } from '../src/runtime/dataflow/pipeline-gateway.ts';
import { decodeRequest, encodeRequest, encodeResponse } from '../src/runtime/oip/messages.ts';
import { DEFAULT_NAMING } from '../src/spec/topics.ts';
import { API_VERSION, type PipelineSpec } from '../src/spec/types.ts';
import { startKafka } from '../test/e2e/harness/kafka.ts';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 6_000);
/** Runs of each path at each level; figures are medians over them. */
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
/** Concurrent callers per run; every path is measured at every level. */
const LEVELS = (process.env.BENCH_CONCURRENCY ?? '1,32,256,512').split(',').map(Number);

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

/** A raw kafkajs round trip in which the messages of concurrent callers go out together while a
 * send is in flight (as the pipeline gateway publishes): what the broker carries for one
 * produce→consume hop. */
async function rawRoundTrip(brokers: string[]): Promise<{ coalesced: Send; close: () => Promise<void> }> {
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
    coalesced: () => roundTrip(coalescedSend),
    close: async () => {
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}

/** Every warning or error the dataflow logs during the run (a healthy run has none). */
const logged: string[] = [];
const watchLog = pino(
  { level: 'warn' },
  {
    write: (line: string) => {
      logged.push(line.trim());
    },
  },
);

/** Pipeline shapes measured: a 3-step chain, and a join of two steps gated by a trigger. */
const SHAPES = {
  chain: {
    steps: [{ name: 's1' }, { name: 's2', inputs: ['s1'] }, { name: 's3', inputs: ['s2'] }],
    output: { steps: ['s3'] },
  },
  join: {
    steps: [{ name: 'j1' }, { name: 'j2' }, { name: 'j3', inputs: ['j1', 'j2'], triggers: ['j1'] }],
    output: { steps: ['j3'] },
  },
} satisfies Record<string, PipelineSpec>;

/** The dataflow as `mlops-runtime dataflow` runs it: every role in one process, pipelines inline. */
async function pipelines(
  brokers: string[],
): Promise<{ send: Record<keyof typeof SHAPES, Send>; close: () => Promise<void> }> {
  const bus = new KafkaBus({ brokers, logger: watchLog, instanceId: 'bench' });
  const metrics = new DataflowMetrics();
  const modelGateway = new ModelGateway(bus, DEFAULT_NAMING, [], echo, watchLog, undefined, metrics);
  const gateway = new PipelineGateway(bus, DEFAULT_NAMING, [], watchLog, 60_000, metrics);
  const roles = { engines: true, models: echo, modelGateway, pipelineGateway: gateway };
  const live = new LivePipelines(bus, DEFAULT_NAMING, roles, watchLog, metrics);
  const names = Object.keys(SHAPES) as (keyof typeof SHAPES)[];
  await live.apply(
    names.map((name) => ({
      apiVersion: API_VERSION,
      kind: 'Pipeline',
      metadata: { name },
      spec: SHAPES[name],
    })),
  );
  const send = (name: string) => async () => {
    await gateway.infer(name, REQUEST, {});
  };
  return {
    send: { chain: send('chain'), join: send('join') },
    close: async () => {
      await live.stop();
      await modelGateway.stop();
      await gateway.stop();
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

type PathName = 'coalesced' | 'chain' | 'join';
const PATHS: PathName[] = ['coalesced', 'chain', 'join'];

/** Median result per path and level; each repeat runs every path once, starting from a different one. */
async function measure(paths: Record<PathName, Send>): Promise<Record<PathName, Result[]>> {
  const medians: Record<PathName, Result[]> = { coalesced: [], chain: [], join: [] };
  for (const level of LEVELS) {
    const runs: Record<PathName, Result[]> = { coalesced: [], chain: [], join: [] };
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

const title = '## Pipeline: 3-step chain and join/trigger over Kafka vs a raw kafkajs round trip';
let kafka: Awaited<ReturnType<typeof startKafka>> | undefined;
try {
  kafka = await startKafka();
} catch (err) {
  process.stdout.write(`${title}\n\nnot run: ${(err as Error).message.split('\n')[0]}\n`);
  process.exit(0);
}
try {
  const raw = await rawRoundTrip(kafka.brokers);
  const pipes = await pipelines(kafka.brokers);
  const results = await measure({ coalesced: raw.coalesced, ...pipes.send });
  await pipes.close();
  await raw.close();
  process.stdout.write(report(results));
} finally {
  await kafka.stop();
}

/** Records a request costs on the broker: raw is one produce and one fetch; a pipeline publishes its
 * request, the engine reads it and writes each step's input and output and the response in its
 * transaction, and the pipeline gateway reads the response. */
function recordsPerRequest(steps: number): { written: number; read: number; total: number } {
  const written = steps === 0 ? 1 : 1 + 2 * steps + 1;
  const read = steps === 0 ? 1 : 2;
  return { written, read, total: written + read };
}

function report(r: Record<PathName, Result[]>): string {
  const f = (n: number) => n.toFixed(1);
  const at = (c: number) => LEVELS.indexOf(c);
  const peak = (rs: Result[]) => Math.max(...rs.map((x) => x.rps));
  const row = (path: string, rs: Result[]) =>
    LEVELS.map((c, i) => `| ${path} | ${c} | ${rs[i].rps.toFixed(0)} | ${f(rs[i].p50)} | ${f(rs[i].p99)} |`);
  const targets: [string, string, boolean][] = [];
  const target = (what: string, measured: string, met: boolean) => targets.push([what, measured, met]);
  const one = at(1);
  const c32 = at(32);
  if (one >= 0) {
    const { p50, p99 } = r.chain[one];
    target('1 caller, 3-step chain: p50 ≤ 20 ms', `${f(p50)} ms`, p50 <= 20);
    target('1 caller, 3-step chain: p99 ≤ 50 ms', `${f(p99)} ms`, p99 <= 50);
  }
  if (c32 >= 0) {
    const ratio = r.chain[c32].p50 / r.coalesced[c32].p50;
    target('32 callers: chain p50 ≤ 10 × raw coalesced p50', `${ratio.toFixed(1)} ×`, ratio <= 10);
  }
  const best = peak(r.chain) / peak(r.coalesced);
  target('best chain throughput ≥ 0.25 × best raw coalesced', `${best.toFixed(2)} ×`, best >= 0.25);
  const raw = recordsPerRequest(0);
  const chain = recordsPerRequest(SHAPES.chain.steps.length);
  const bound = raw.total / chain.total;
  for (const i of [one, c32].filter((x) => x >= 0)) {
    const ratio = r.join[i].p50 / r.chain[i].p50;
    target(
      `${LEVELS[i]} caller(s): join/trigger p50 ≤ 1.5 × chain p50`,
      `${ratio.toFixed(2)} ×`,
      ratio <= 1.5,
    );
  }
  return [
    title,
    '',
    `Closed loop at ${LEVELS.join(', ')} concurrent callers, ${DURATION_MS / 1000} s per run after a 1 s warm-up, single local broker (KRaft), topics with 1 partition, echo models in process. Each path runs ${REPEATS} times at each level, the paths' runs alternating (all stay connected throughout); figures are the medians of those runs.`,
    '',
    "- **raw**: a kafkajs idempotent produce (acks=all) and a consume, concurrent callers' messages coalesced into one send: what the broker carries for one hop; the baseline.",
    "- **chain**: pipeline gateway → pipeline input topic → engine, which runs s1 → s2 → s3 itself and commits every step's input and output records, the pipeline output and the consumed offset in one transaction → output topic → pipeline gateway. One idempotent publish and one transaction per request (shared by the requests of a batch).",
    '- **join**: the same path for j1 and j2 on the input, then j3 on both (inner join) gated by a trigger from j1.',
    '',
    '| path | callers | req/s | p50 ms | p99 ms |',
    '|---|---|---|---|---|',
    ...row('raw produce → consume, coalesced (baseline)', r.coalesced),
    ...row('3-step chain pipeline', r.chain),
    ...row('join/trigger pipeline', r.join),
    '',
    '| target | measured | |',
    '|---|---|---|',
    ...targets.map(([what, measured, met]) => `| ${what} | ${measured} | ${met ? 'met' : 'not met'} |`),
    '',
    'Kafka records each request costs, and the records per second at the best throughput measured: every record is encoded, sent, fetched and decoded by the Kafka client in JavaScript, so when the client is the bound the throughput ratio cannot exceed the inverse ratio of records per request.',
    '',
    '| path | records written | records read | records/s at best |',
    '|---|---|---|---|',
    `| raw produce → consume | ${raw.written} | ${raw.read} | ${(peak(r.coalesced) * raw.total).toFixed(0)} |`,
    `| 3-step chain pipeline | ${chain.written} | ${chain.read} | ${(peak(r.chain) * chain.total).toFixed(0)} |`,
    '',
    `Bound on chain vs raw throughput from records per request alone: ${raw.total} / ${chain.total} = ${bound.toFixed(2)} ×; measured ${best.toFixed(2)} ×, i.e. ${((best / bound) * 100).toFixed(0)} % of that bound.`,
    '',
    `Warnings and errors the dataflow logged during the run: ${logged.length}${logged.length ? ` (first: ${logged[0].slice(0, 300)})` : ''}.`,
    '',
  ].join('\n');
}
