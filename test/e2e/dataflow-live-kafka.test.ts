import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { BusRecord } from '../../src/runtime/bus/bus.ts';
import { KafkaBus } from '../../src/runtime/bus/kafka-bus.ts';
import { PipelineEngine } from '../../src/runtime/dataflow/engine.ts';
import { LivePipelines } from '../../src/runtime/dataflow/live-pipelines.ts';
import { DataflowMetrics } from '../../src/runtime/dataflow/metrics.ts';
import { ModelGateway } from '../../src/runtime/dataflow/model-gateway.ts';
import { PipelineGateway } from '../../src/runtime/dataflow/pipeline-gateway.ts';
import { jsonRequestToMessage, messageToJsonResponse } from '../../src/runtime/oip/convert.ts';
import { decodeResponse, encodeRequest } from '../../src/runtime/oip/messages.ts';
import { HEADER_INLINE } from '../../src/spec/headers.ts';
import { DEFAULT_NAMING, modelTopic, pipelineTopic } from '../../src/spec/topics.ts';
import { API_VERSION, type PipelineResource, type PipelineSpec } from '../../src/spec/types.ts';
import { type FakeModel, FakeModels, runPipeline, tensor } from '../runtime/dataflow/fixtures.ts';
import { repoRoot } from './harness/cache.ts';
import { type KafkaBroker, startKafka } from './harness/kafka.ts';
import { logContains, type ManagedProcess, pollUntil, startProcess } from './harness/process.ts';
import { describeE2E } from './harness/toolchain.ts';

/** Every warning or error the dataflow logs: a healthy run has none. */
const logged: string[] = [];
const logger = pino(
  { level: 'warn' },
  {
    write: (line: string) => {
      logged.push(line);
      if (process.env.LOG_LEVEL) process.stderr.write(line);
    },
  },
);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const add =
  (n: number): FakeModel =>
  (inputs) => [
    tensor(
      'x',
      (inputs[0].data as number[]).map((v) => v + n),
    ),
  ];
const MODELS = { a: add(1), b: add(10), c: add(100), d: add(1000) };
const chain = (...models: string[]): PipelineSpec => ({
  steps: models.map((m, i) => (i === 0 ? { name: m } : { name: m, inputs: [models[i - 1]] })),
  output: { steps: [models[models.length - 1]] },
});
const resource = (name: string, spec: PipelineSpec): PipelineResource => ({
  apiVersion: API_VERSION,
  kind: 'Pipeline',
  metadata: { name },
  spec,
});

describeE2E('pipelines run inline and followed live over a real Kafka broker', ['java'], () => {
  let kafka: KafkaBroker;
  const buses: KafkaBus[] = [];
  const bus = (instanceId: string) => {
    const b = new KafkaBus({ brokers: kafka.brokers, logger, instanceId, partitions: 2 });
    buses.push(b);
    return b;
  };

  beforeAll(async () => {
    kafka = await startKafka();
  }, 120_000);
  afterAll(async () => {
    for (const b of buses) await b.close().catch(() => {});
    await kafka?.stop();
  });

  /** Every committed record of a topic, read from the start until `expected` arrived and a bit more. */
  async function readAll(topic: string, expected: number): Promise<BusRecord[]> {
    const seen = new Map<string, BusRecord>();
    const c = await bus(`reader-${topic}`).consume({
      group: `reader-${topic}-${Date.now()}`,
      topics: [topic],
      fromBeginning: true,
      readOnly: true,
      process: (records) => {
        for (const r of records) seen.set(`${r.partition}:${r.offset}`, r);
        return [];
      },
    });
    const deadline = Date.now() + 20_000;
    while (seen.size < expected && Date.now() < deadline) await sleep(100);
    await sleep(500);
    await c.close();
    return [...seen.values()];
  }

  /**
   * The dataflow as `mlops-runtime dataflow` runs it, following `apply`; `overTopics`: as without
   * `--inference` for the engine, every step travels over the model topics (the model gateway).
   */
  function dataflow(instance: string, overTopics = false) {
    const b = bus(instance);
    const metrics = new DataflowMetrics();
    const models = new FakeModels(MODELS);
    const modelGateway = new ModelGateway(b, DEFAULT_NAMING, [], models, logger, 32, metrics);
    const gateway = new PipelineGateway(b, DEFAULT_NAMING, [], logger, 60_000, metrics);
    const live = new LivePipelines(
      b,
      DEFAULT_NAMING,
      { engines: true, models: overTopics ? undefined : models, modelGateway, pipelineGateway: gateway },
      logger,
      metrics,
    );
    const infer = async (pipeline: string, value: number) => {
      const req = jsonRequestToMessage({ id: `r${value}`, inputs: [tensor('x', [value])] }, pipeline);
      const res = await gateway.infer(pipeline, encodeRequest(req), {});
      return messageToJsonResponse(decodeResponse(res.value)).outputs[0].data[0] as number;
    };
    /** Uniquely numbered requests from 8 callers until stopped. */
    const load = (pipeline: string) => {
      let done = false;
      const answers = new Map<number, number>();
      const failures: string[] = [];
      let next = 0;
      const callers = Promise.all(
        Array.from({ length: 8 }, async () => {
          while (!done) {
            const i = next++;
            try {
              answers.set(i, await infer(pipeline, i));
            } catch (err) {
              failures.push(`${i}: ${(err as Error).message}`);
            }
          }
        }),
      );
      return {
        async answered(n: number) {
          const target = answers.size + n;
          while (answers.size < target) await sleep(10);
        },
        async stop() {
          done = true;
          await callers;
          return { answers, failures, sent: next };
        },
      };
    };
    const stop = async () => {
      await live.stop();
      await modelGateway.stop();
      await gateway.stop();
    };
    return { live, infer, load, stop };
  }

  it('runs a chain and a join gated by a trigger inline, every step readable on its topics', async () => {
    const df = dataflow('shapes');
    try {
      await df.live.apply([
        resource('lchain', chain('a', 'b', 'c')),
        resource('ljoin', {
          steps: [{ name: 'a' }, { name: 'b' }, { name: 'd', inputs: ['a', 'b'], triggers: ['a'] }],
          output: { steps: ['d'] },
        }),
      ]);
      expect(await df.infer('lchain', 1)).toBe(112);
      // d echoes its first input (a's output) plus 1000.
      expect(await df.infer('ljoin', 1)).toBe(1002);
      const cIn = await readAll(modelTopic(DEFAULT_NAMING, 'c', 'inputs'), 1);
      const cOut = await readAll(modelTopic(DEFAULT_NAMING, 'c', 'outputs'), 1);
      expect(cIn.map((r) => r.headers.pipeline)).toEqual(['lchain']);
      expect(cIn[0].headers[HEADER_INLINE]).toBe('1');
      expect(cOut.map((r) => r.key)).toEqual(cIn.map((r) => r.key));
    } finally {
      await df.stop();
    }
  }, 120_000);

  it('adds, changes and deletes pipelines under load to another one with no failed request', async () => {
    const df = dataflow('live');
    const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await df.live.apply([resource('steady', chain('a', 'b')), resource('other', chain('a'))]);
      const load = df.load('steady');
      await load.answered(50);
      const gone = { ...chain('d', 'c'), dataflow: { cleanTopicsOnDelete: true } };
      await df.live.apply([
        resource('steady', chain('a', 'b')),
        resource('other', chain('c')),
        resource('gone', gone),
      ]);
      expect(await df.infer('other', 1)).toBe(101);
      expect(await df.infer('gone', 1)).toBe(1101);
      await load.answered(50);
      await df.live.apply([resource('steady', chain('a', 'b'))]);
      await load.answered(50);
      const { answers, failures, sent } = await load.stop();
      expect(failures).toEqual([]);
      expect(answers.size).toBe(sent);
      for (const [i, v] of answers) expect(v).toBe(i + 11);
      const topics = await admin.listTopics();
      expect(topics).not.toContain(pipelineTopic(DEFAULT_NAMING, 'gone', 'inputs'));
      expect(topics).not.toContain(pipelineTopic(DEFAULT_NAMING, 'gone', 'outputs'));
      expect(topics).toContain(pipelineTopic(DEFAULT_NAMING, 'other', 'inputs'));
    } finally {
      await admin.disconnect();
      await df.stop();
    }
  }, 180_000);

  for (const overTopics of [false, true]) {
    const mode = overTopics ? 'over topics' : 'inline';
    it(`${mode}: a pipeline changed under load answers each request once, by one version, losing none`, async () => {
      const name = overTopics ? 'self-topics' : 'self';
      const df = dataflow(name, overTopics);
      try {
        await df.live.apply([resource(name, chain('a', 'b'))]);
        const load = df.load(name);
        await load.answered(100);
        // Requests between a and b when the change lands must finish on a→b: the new version
        // (c→a) would answer them with a's output (i + 1) or never.
        await df.live.apply([resource(name, chain('c', 'a'))]);
        await load.answered(100);
        const { answers, failures, sent } = await load.stop();
        const version = (i: number, v: number) =>
          v === i + 11 ? 'v1' : v === i + 101 ? 'v2' : `wrong ${v - i}`;
        const counts: Record<string, number> = {};
        for (const [i, v] of answers) counts[version(i, v)] = (counts[version(i, v)] ?? 0) + 1;
        console.log(
          `${mode}: ${sent} sent, answered per version ${JSON.stringify(counts)}, ${failures.length} failed`,
        );
        expect(failures).toEqual([]);
        expect(answers.size).toBe(sent);
        expect(Object.keys(counts).sort()).toEqual(['v1', 'v2']);
        // Exactly once: one output record per request on the pipeline's output topic.
        const outputs = await readAll(pipelineTopic(DEFAULT_NAMING, name, 'outputs'), sent);
        expect(outputs).toHaveLength(sent);
        expect(new Set(outputs.map((r) => r.key)).size).toBe(sent);
        // Nothing so far was unhealthy: no warning or error was logged by any test up to here.
        expect(logged).toEqual([]);
      } finally {
        await df.stop();
      }
    }, 180_000);
  }

  it('scaling engine processes out and in moves partitions between them, losing and doubling nothing', async () => {
    // Two `mlops-runtime dataflow --roles engine` processes (steps over topics), 2 partitions (as
    // every topic of this suite: a request keeps its partition number from topic to topic);
    // the model and pipeline gateways run here. The second engine starts under load, then the
    // first stops (SIGTERM, as a scale-in does): the group hands their partitions over.
    const dir = mkdtempSync(join(tmpdir(), 'mlops-e2e-scale-'));
    const manifests = join(dir, 'manifests');
    mkdirSync(manifests);
    writeFileSync(join(manifests, 'scale.yaml'), stringify(resource('scale', chain('a', 'b'))));
    const engine = (id: string): ManagedProcess => {
      const logFile = join(dir, `${id}.log`);
      return startProcess(
        id,
        process.execPath,
        [
          join(repoRoot, 'bin', 'mlops-runtime.js'),
          'dataflow',
          '--roles',
          'engine',
          '--brokers',
          kafka.brokers.join(','),
          '--manifests',
          manifests,
          '--partitions',
          '2',
          '--instance-id',
          id,
        ],
        { logFile },
      );
    };
    const running = (p: ManagedProcess) =>
      pollUntil(`${p.name} running`, async () => logContains(p.logFile, 'dataflow running'), {
        timeoutMs: 60_000,
        logs: [p.logFile],
      });
    const b = new KafkaBus({ brokers: kafka.brokers, logger, instanceId: 'scale-gw', partitions: 2 });
    buses.push(b);
    const metrics = new DataflowMetrics();
    const modelGateway = new ModelGateway(b, DEFAULT_NAMING, [], new FakeModels(MODELS), logger, 32, metrics);
    const gateway = new PipelineGateway(b, DEFAULT_NAMING, [], logger, 120_000, metrics);
    const first = engine('engine-0');
    let second: ManagedProcess | undefined;
    let done = false;
    let callers: Promise<unknown> = Promise.resolve();
    try {
      await running(first);
      await modelGateway.setModels(['a', 'b']);
      await gateway.add('scale');
      let next = 0;
      const answers = new Map<number, number>();
      const failures: string[] = [];
      callers = Promise.all(
        Array.from({ length: 8 }, async () => {
          while (!done) {
            const i = next++;
            const req = jsonRequestToMessage({ id: `s${i}`, inputs: [tensor('x', [i])] }, 'scale');
            await gateway.infer('scale', encodeRequest(req), {}).then(
              (res) =>
                answers.set(i, messageToJsonResponse(decodeResponse(res.value)).outputs[0].data[0] as number),
              (err: Error) => failures.push(`${i}: ${(err as Error).message}`),
            );
          }
        }),
      );
      const answered = async (n: number) => {
        const target = answers.size + n;
        while (answers.size < target) await sleep(10);
      };
      await answered(50);
      second = engine('engine-1');
      await running(second);
      await answered(100);
      const before = answers.size;
      await first.stop();
      await answered(100);
      done = true;
      await callers;
      console.log(
        `scale: ${next} sent, ${answers.size} answered (${before} before engine-0 stopped), ${failures.length} failed`,
      );
      expect(failures).toEqual([]);
      expect(answers.size).toBe(next);
      for (const [i, v] of answers) expect(v).toBe(i + 11);
      // Exactly once on the topics too: one output per request, one input per request at each step.
      const outputs = await readAll(pipelineTopic(DEFAULT_NAMING, 'scale', 'outputs'), next);
      expect(outputs).toHaveLength(next);
      expect(new Set(outputs.map((r) => r.key)).size).toBe(next);
      const bIn = (await readAll(modelTopic(DEFAULT_NAMING, 'b', 'inputs'), next)).filter(
        (r) => r.headers.pipeline === 'scale',
      );
      expect(bIn).toHaveLength(next);
      // The last 100 were answered by engine-1 alone. Neither engine logged a warning or an error.
      for (const p of [first, second]) expect(logContains(p.logFile, /"level":(40|50)/)).toBe(false);
    } finally {
      done = true;
      await callers;
      await first.stop();
      await second?.stop();
      await modelGateway.stop();
      await gateway.stop();
    }
  }, 240_000);

  it('inline: loses or doubles nothing across a broker restart and an engine restart', async () => {
    const b = bus('inline-restart');
    const p = await runPipeline('ir', chain('a', 'b', 'c'), MODELS, {
      bus: b,
      timeoutMs: 120_000,
      inline: true,
    });
    let engine = p.engine;
    expect(engine.inline).toBe(true);
    try {
      const total = 300;
      let sent = 0;
      const results: number[] = [];
      const failures: string[] = [];
      const load = Promise.all(
        Array.from({ length: 8 }, async () => {
          while (sent < total) {
            const i = sent++;
            try {
              const r = await p.infer({
                inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [i] }],
              });
              results.push((r.response.outputs[0].data[0] as number) - 111);
            } catch (err) {
              failures.push(String(err));
            }
          }
        }),
      );
      while (sent < total / 3) await sleep(20);
      await kafka.restart();
      while (sent < (2 * total) / 3) await sleep(20);
      await engine.stop();
      engine = new PipelineEngine(p.plan, b, DEFAULT_NAMING, logger, Date.now, undefined, p.client);
      await engine.start();
      await load;
      expect(failures).toEqual([]);
      expect(results.sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i));
      const outputs = await readAll(p.plan.outputTopic, total);
      expect(outputs).toHaveLength(total);
      expect(new Set(outputs.map((r) => r.key)).size).toBe(total);
      // Each step's records too: one input and one output per request.
      const cOut = (await readAll(modelTopic(DEFAULT_NAMING, 'c', 'outputs'), total)).filter(
        (r) => r.headers.pipeline === 'ir',
      );
      expect(cOut).toHaveLength(total);
    } finally {
      await p.stop();
      await engine.stop();
    }
  }, 300_000);
});
