// The exact-count oracle over a real broker: every request answered once, every output record
// on its topic once, across a broker restart. Shared by the plaintext and the secured suites.
import { expect } from 'vitest';
import type { Bus, BusRecord } from '../../../src/runtime/bus/bus.ts';
import { runPipeline } from '../../runtime/dataflow/fixtures.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every committed record of `topic`, read from the start until `expected` arrived and a bit more. */
export async function readAll(
  bus: Bus,
  topic: string,
  expected: number,
  timeoutMs = 20_000,
): Promise<BusRecord[]> {
  const seen: BusRecord[] = [];
  const positions = new Set<string>();
  const c = await bus.consume({
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

/**
 * Runs a three-step pipeline synchronously under 8 callers, restarts the broker a third of the
 * way through, and checks that each of `total` requests got exactly one right answer and that
 * the output topic holds exactly one record per request.
 */
export async function expectExactlyOnceAcrossBrokerRestart(opts: {
  name: string;
  bus: Bus;
  /** A bus of its own for reading the output topic back. */
  reader: Bus;
  restart(): Promise<void>;
  total?: number;
}): Promise<void> {
  const add = (k: number) => (inputs: { data: unknown[] }[]) => [
    { name: 'out', datatype: 'FP32' as const, shape: [1, 1], data: [(inputs[0].data[0] as number) + k] },
  ];
  const [a, b, c] = ['a', 'b', 'c'].map((s) => `${opts.name}${s}`);
  const p = await runPipeline(
    opts.name,
    { steps: [{ name: a }, { name: b, inputs: [a] }, { name: c, inputs: [b] }], output: { steps: [c] } },
    { [a]: add(1), [b]: add(10), [c]: add(100) },
    { bus: opts.bus, timeoutMs: 120_000 },
  );
  try {
    const first = await p.infer({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [1] }] });
    expect(first.response.outputs[0].data).toEqual([112]);

    const total = opts.total ?? 300;
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
    await opts.restart();
    await load;
    expect(failures).toEqual([]);
    expect(results.sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i));
    // Not only did every caller get one answer: the output topic holds one record per request.
    const outputs = await readAll(opts.reader, p.plan.outputTopic, total + 1);
    expect(outputs).toHaveLength(total + 1);
    expect(new Set(outputs.map((r) => r.key)).size).toBe(total + 1);
  } finally {
    await p.stop();
  }
}
