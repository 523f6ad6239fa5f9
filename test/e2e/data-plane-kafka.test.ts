import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KafkaBus } from '../../src/runtime/bus/kafka-bus.ts';
import { PipelineEngine } from '../../src/runtime/dataflow/engine.ts';
import { DEFAULT_NAMING } from '../../src/spec/topics.ts';
import { runPipeline } from '../runtime/dataflow/fixtures.ts';
import { expectExactlyOnceAcrossBrokerRestart, readAll as readAllCommitted } from './harness/exact-count.ts';
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

  const readAll = (topic: string, expected: number) =>
    readAllCommitted(bus(`reader-${topic}`), topic, expected);

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
    await expectExactlyOnceAcrossBrokerRestart({
      name: 'kp',
      bus: bus('kp'),
      reader: bus('kp-reader'),
      restart: () => kafka.restart(),
    });
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
