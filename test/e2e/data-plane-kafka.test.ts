import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { BusRecord } from '../../src/runtime/bus/bus.ts';
import { KafkaBus } from '../../src/runtime/bus/kafka-bus.ts';
import { PipelineEngine } from '../../src/runtime/dataflow/engine.ts';
import { DEFAULT_NAMING } from '../../src/spec/topics.ts';
import { runPipeline } from '../runtime/dataflow/fixtures.ts';
import { type KafkaBroker, startKafka } from './harness/kafka.ts';
import { describeE2E } from './harness/toolchain.ts';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeE2E('data plane over a real Kafka broker', ['java'], () => {
  let kafka: KafkaBroker;
  const buses: KafkaBus[] = [];
  const bus = (instanceId = 'e2e') => {
    const b = new KafkaBus({ brokers: kafka.brokers, logger, instanceId, partitions: 2 });
    buses.push(b);
    return b;
  };

  beforeAll(async () => {
    kafka = await startKafka();
  });
  afterAll(async () => {
    for (const b of buses) await b.close().catch(() => {});
    await kafka?.stop();
  });

  /** Reads every committed record of a topic from the start. */
  async function readAll(topic: string, expected: number, timeoutMs = 20_000): Promise<BusRecord[]> {
    const reader = bus(`reader-${topic}`);
    const seen: BusRecord[] = [];
    const positions = new Set<string>();
    const c = await reader.consume({
      group: `reader-${topic}-${Date.now()}`,
      topics: [topic],
      fromBeginning: true,
      process: (records) => {
        // A rebalance may hand the reader the same record twice; that is one record on the topic.
        for (const r of records) {
          const at = `${r.partition}:${r.offset}`;
          if (positions.has(at)) continue;
          positions.add(at);
          seen.push(r);
        }
        return [];
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (seen.length < expected && Date.now() < deadline) await sleep(100);
    await sleep(500); // anything beyond the expected count would show up here
    await c.close();
    return seen;
  }

  it('consume-transform-publish is exactly once even when a batch fails midway', async () => {
    const b = bus();
    await b.ensureTopics(['t.in', 't.out']);
    let failOnce = true;
    const c = await b.consume({
      group: 'copier',
      topics: ['t.in'],
      process: (records) => {
        if (failOnce && records.length > 0) {
          failOnce = false;
          throw new Error('crash before commit');
        }
        return records.map((r) => ({ topic: 't.out', key: r.key, value: r.value, partition: r.partition }));
      },
    });
    await c.ready();
    const n = 200;
    await b.publish(
      Array.from({ length: n }, (_, i) => ({ topic: 't.in', key: `k${i}`, value: Buffer.from(String(i)) })),
    );
    const out = await readAll('t.out', n);
    await c.close();
    expect(out).toHaveLength(n);
    expect(new Set(out.map((r) => r.key)).size).toBe(n);
  }, 90_000);

  it('runs a pipeline synchronously and loses or doubles nothing across a broker restart', async () => {
    const add = (k: number) => (inputs: { data: unknown[] }[]) => [
      { name: 'out', datatype: 'FP32' as const, shape: [1, 1], data: [(inputs[0].data[0] as number) + k] },
    ];
    const p = await runPipeline(
      'kp',
      {
        steps: [{ name: 'ka' }, { name: 'kb', inputs: ['ka'] }, { name: 'kc', inputs: ['kb'] }],
        output: { steps: ['kc'] },
      },
      { ka: add(1), kb: add(10), kc: add(100) },
      { bus: bus('kp'), timeoutMs: 120_000 },
    );
    try {
      const first = await p.infer({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [1] }] });
      expect(first.response.outputs[0].data).toEqual([112]);

      const total = 300;
      let sent = 0;
      const results: number[] = [];
      const failures: string[] = [];
      const worker = async () => {
        while (sent < total) {
          const i = sent++;
          try {
            const r = await p.infer({
              id: `r${i}`,
              inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [i] }],
            });
            results.push((r.response.outputs[0].data[0] as number) - 111);
          } catch (err) {
            failures.push(String(err));
          }
        }
      };
      const load = Promise.all(Array.from({ length: 8 }, worker));
      while (sent < total / 3) await sleep(20);
      await kafka.restart();
      await load;
      expect(failures).toEqual([]);
      expect(results.sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
      // Not only did every caller get one answer: the output topic holds one record per request.
      const outputs = await readAll(p.plan.outputTopic, total + 1);
      expect(outputs).toHaveLength(total + 1);
      expect(new Set(outputs.map((r) => r.key)).size).toBe(total + 1);
    } finally {
      await p.stop();
    }
  }, 240_000);

  it('survives the dataflow engine restarting mid-stream with nothing lost or doubled', async () => {
    const echo = (inputs: { name: string; datatype: string; shape: number[]; data: unknown[] }[]) =>
      inputs as never;
    const b = bus('restart');
    const p = await runPipeline(
      're',
      {
        steps: [{ name: 'ra' }, { name: 'rb' }, { name: 'rc', inputs: ['ra', 'rb'] }],
        output: { steps: ['rc'] },
      },
      { ra: echo, rb: echo, rc: echo },
      { bus: b, timeoutMs: 120_000 },
    );
    let engine = p.engine;
    try {
      const total = 200;
      let sent = 0;
      const ok: number[] = [];
      const failures: string[] = [];
      const worker = async () => {
        while (sent < total) {
          const i = sent++;
          try {
            const r = await p.infer({ inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: [i] }] });
            expect(r.response.outputs).toHaveLength(2);
            ok.push(r.response.outputs[0].data[0] as number);
          } catch (err) {
            failures.push(String(err));
          }
        }
      };
      const load = Promise.all(Array.from({ length: 8 }, worker));
      while (sent < total / 2) await sleep(10);
      await engine.stop();
      engine = new PipelineEngine(p.plan, b, DEFAULT_NAMING, logger);
      await engine.start();
      await load;
      expect(failures).toEqual([]);
      expect(ok.sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i));
      const outputs = await readAll(p.plan.outputTopic, total);
      expect(outputs).toHaveLength(total);
    } finally {
      await p.stop();
      await engine.stop();
    }
  }, 240_000);
});
