import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../../src/runtime/bus/memory-bus.ts';
import { PipelineEngine } from '../../../src/runtime/dataflow/engine.ts';
import { decodePayload, encodePayload } from '../../../src/runtime/dataflow/payload.ts';
import { planPipeline } from '../../../src/runtime/dataflow/plan.ts';
import { OipError } from '../../../src/runtime/oip/errors.ts';
import { HEADER_ERRORS } from '../../../src/spec/headers.ts';
import { DEFAULT_NAMING, errorsTopic, modelTopic } from '../../../src/spec/topics.ts';
import { type FakeModel, runPipeline, silent, sleep, tensor } from './fixtures.ts';

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

async function pipeline(...args: Parameters<typeof runPipeline<MemoryBus>>) {
  const p = await runPipeline<MemoryBus>(...args);
  running.push(p);
  return p;
}

const add =
  (n: number, out = 'out'): FakeModel =>
  (inputs) => [
    tensor(
      out,
      (inputs[0].data as number[]).map((v) => v + n),
    ),
  ];
const request = (data: number[], name = 'in') => ({ id: 'r', inputs: [tensor(name, data)] });

describe('dataflow engine on the in-process bus', () => {
  it('chains steps and answers synchronously, carrying x- headers', async () => {
    const p = await pipeline(
      'chain',
      { steps: [{ name: 'a' }, { name: 'b', inputs: ['a'] }], output: { steps: ['b'] } },
      { a: add(1), b: add(10) },
    );
    const { response, headers } = await p.infer(request([1, 2]), {
      'x-request-id': 'rid-1',
      'x-tenant': 't1',
    });
    expect(response.outputs).toEqual([{ name: 'out', datatype: 'FP32', shape: [1, 2], data: [12, 13] }]);
    expect(headers['x-tenant']).toBe('t1');
    expect(headers['x-request-id']).toBe('rid-1');
    expect(headers.pipeline).toBe('chain');
    // b received a's outputs converted into request inputs.
    expect(p.client.calls.b[0].inputs[0].name).toBe('out');
    const metrics = await p.metrics.registry.metrics();
    expect(metrics).toContain('mlops_pipeline_requests_total{pipeline="chain",outcome="ok"} 1');
    expect(metrics).toContain('mlops_modelgateway_calls_total{model="a",outcome="ok"} 1');
  });

  it('selects and renames tensors with tensorMap', async () => {
    const two: FakeModel = () => [tensor('t1', [1]), tensor('t2', [2])];
    const echo: FakeModel = (inputs) => inputs;
    const p = await pipeline(
      'sel',
      {
        steps: [
          { name: 'two' },
          { name: 'echo', inputs: ['two.outputs.t2'], tensorMap: { 'two.outputs.t2': 'renamed' } },
        ],
        output: { steps: ['echo'] },
      },
      { two, echo },
    );
    const { response } = await p.infer(request([0]));
    expect(response.outputs.map((t) => [t.name, t.data])).toEqual([['renamed', [2]]]);
  });

  it('routes conditionally: a record without the referenced tensor is dropped', async () => {
    const choose: FakeModel = (inputs) =>
      (inputs[0].data[0] as number) > 0 ? [tensor('pos', [1])] : [tensor('neg', [1])];
    const p = await pipeline(
      'cond',
      {
        steps: [
          { name: 'choose' },
          { name: 'up', inputs: ['choose.outputs.pos'] },
          { name: 'down', inputs: ['choose.outputs.neg'] },
        ],
        output: { steps: ['up', 'down'], stepsJoin: 'any' },
      },
      { choose, up: add(100, 'up'), down: add(-100, 'down') },
    );
    expect((await p.infer(request([5]))).response.outputs[0].name).toBe('up');
    expect((await p.infer(request([-5]))).response.outputs[0].name).toBe('down');
    expect(p.client.calls.up).toHaveLength(1);
    expect(p.client.calls.down).toHaveLength(1);
  });

  it('inner-joins inputs: both outputs, concatenated in input order', async () => {
    const p = await pipeline(
      'inner',
      {
        steps: [{ name: 'a' }, { name: 'b' }, { name: 'c', inputs: ['b', 'a'] }],
        output: { steps: ['c'] },
      },
      { a: add(1, 'fromA'), b: add(2, 'fromB'), c: (inputs) => inputs },
    );
    const { response } = await p.infer(request([0]));
    expect(response.outputs.map((t) => t.name)).toEqual(['fromB', 'fromA']);
  });

  it('inner join with a missing side times out; outer emits the partial after its window', async () => {
    const none: FakeModel = () => [tensor('other', [0])];
    const models = { a: add(1, 'fromA'), gone: none, c: ((inputs) => inputs) as FakeModel };
    const inner = await pipeline(
      'inner2',
      {
        steps: [
          { name: 'a' },
          { name: 'gone' },
          { name: 'c', inputs: ['a', 'gone.outputs.x'], joinWindowMs: 100 },
        ],
        output: { steps: ['c'] },
      },
      models,
      { timeoutMs: 500 },
    );
    await expect(inner.infer(request([0]))).rejects.toMatchObject({ status: 504 });
    expect(inner.client.calls.c).toBeUndefined();

    const outer = await pipeline(
      'outer',
      {
        steps: [
          { name: 'a' },
          { name: 'gone' },
          { name: 'c', inputs: ['a', 'gone.outputs.x'], inputsJoinType: 'outer', joinWindowMs: 150 },
        ],
        output: { steps: ['c'] },
      },
      models,
    );
    const started = Date.now();
    const { response } = await outer.infer(request([0]));
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(response.outputs.map((t) => t.name)).toEqual(['fromA']);
  });

  it('outer join emits at once when every side arrived', async () => {
    const p = await pipeline(
      'outerfull',
      {
        steps: [
          { name: 'a' },
          { name: 'b' },
          { name: 'c', inputs: ['a', 'b'], inputsJoinType: 'outer', joinWindowMs: 5000 },
        ],
        output: { steps: ['c'] },
      },
      { a: add(1, 'fromA'), b: add(2, 'fromB'), c: (inputs) => inputs },
    );
    const started = Date.now();
    const { response } = await p.infer(request([0]));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(response.outputs.map((t) => t.name).sort()).toEqual(['fromA', 'fromB']);
  });

  it('any join forwards the first arrival only', async () => {
    const p = await pipeline(
      'any',
      {
        steps: [
          { name: 'a' },
          { name: 'b' },
          { name: 'c', inputs: ['a', 'b'], inputsJoinType: 'any', joinWindowMs: 1000 },
        ],
        output: { steps: ['c'] },
      },
      { a: add(1, 'fromA'), b: add(2, 'fromB'), c: (inputs) => inputs },
    );
    const { response } = await p.infer(request([0]));
    expect(response.outputs).toHaveLength(1);
    await sleep(100);
    expect(p.client.calls.c).toHaveLength(1);
  });

  it('triggers gate the data without being forwarded', async () => {
    const gate: FakeModel = (inputs) =>
      (inputs[0].data[0] as number) > 0 ? [tensor('go', [1])] : [tensor('stop', [1])];
    const p = await pipeline(
      'trig',
      {
        steps: [
          { name: 'gate' },
          { name: 'a' },
          { name: 'c', inputs: ['a'], triggers: ['gate.outputs.go'], joinWindowMs: 200 },
        ],
        output: { steps: ['c'] },
      },
      { gate, a: add(1, 'fromA'), c: (inputs) => inputs },
      { timeoutMs: 600 },
    );
    const { response } = await p.infer(request([1]));
    expect(response.outputs.map((t) => t.name)).toEqual(['fromA']);
    await expect(p.infer(request([-1]))).rejects.toMatchObject({ status: 504 });
    expect(p.client.calls.c).toHaveLength(1);
  });

  it('joins several triggers among themselves (any) before the data', async () => {
    const t1: FakeModel = () => [tensor('no', [1])];
    const t2: FakeModel = () => [tensor('yes', [1])];
    const p = await pipeline(
      'trig2',
      {
        steps: [
          { name: 't1' },
          { name: 't2' },
          { name: 'a' },
          {
            name: 'c',
            inputs: ['a'],
            triggers: ['t1.outputs.yes', 't2.outputs.yes'],
            triggersJoinType: 'any',
            joinWindowMs: 500,
          },
        ],
        output: { steps: ['c'] },
      },
      { t1, t2, a: add(1, 'fromA'), c: (inputs) => inputs },
    );
    expect((await p.infer(request([1]))).response.outputs[0].name).toBe('fromA');
  });

  it('batches requests by size, concatenating on the first dimension', async () => {
    const p = await pipeline(
      'batch',
      { steps: [{ name: 'b', batch: { size: 3 } }], output: { steps: ['b'] } },
      { b: (inputs) => inputs },
      { timeoutMs: 1500 },
    );
    const calls = [p.infer(request([1, 2])), p.infer(request([3, 4])), p.infer(request([5, 6]))];
    const settled = await Promise.allSettled(calls);
    expect(p.client.calls.b).toHaveLength(1);
    const merged = p.client.calls.b[0].inputs[0];
    expect(merged.shape).toEqual([3, 2]);
    // Rows keep their contents; their order follows arrival across partitions.
    const rows = [0, 2, 4].map((i) => (merged.data as number[]).slice(i, i + 2).join(',')).sort();
    expect(rows).toEqual(['1,2', '3,4', '5,6']);
    // The merged output answers the request that completed the batch.
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
  });

  it('stops a cycle after maxStepRevisits with an error record', async () => {
    const p = await pipeline(
      'loop',
      {
        steps: [
          { name: 'a', inputs: ['loop.inputs', 'b'], inputsJoinType: 'any' },
          { name: 'b', inputs: ['a'] },
        ],
        output: { steps: ['b'] },
        allowCycles: true,
        maxStepRevisits: 2,
      },
      { a: add(1, 'in'), b: add(1, 'in') },
    );
    const { response } = await p.infer(request([0]));
    expect(response.outputs[0].data).toEqual([2]);
    await sleep(300);
    expect(p.client.calls.a).toHaveLength(3);
    const errors = p.bus.read(errorsTopic(DEFAULT_NAMING));
    expect(errors).toHaveLength(1);
    expect(errors[0].headers[HEADER_ERRORS]).toBe('a');
    expect(errors[0].value.toString()).toMatch(
      /ran 4 times for one request, more than maxStepRevisits \(2\)/,
    );
  });

  it('returns model errors to the synchronous caller', async () => {
    const p = await pipeline(
      'err',
      { steps: [{ name: 'a' }, { name: 'bad', inputs: ['a'] }], output: { steps: ['bad'] } },
      { a: add(1), bad: () => new Error('shape mismatch in bad') },
    );
    const err = await p.infer(request([1])).catch((e) => e);
    expect(err).toBeInstanceOf(OipError);
    expect(err.status).toBe(400);
    expect(err.message).toBe('bad: shape mismatch in bad');
    expect(await p.metrics.registry.metrics()).toContain(
      'mlops_pipeline_requests_total{pipeline="err",outcome="model_error"} 1',
    );
  });

  it('replays held join state after an engine restart: one output, nothing lost, nothing doubled', async () => {
    const bus = new MemoryBus(1);
    const plan = planPipeline(
      'restart',
      { steps: [{ name: 'a' }, { name: 'b' }, { name: 'c', inputs: ['a', 'b'] }] },
      DEFAULT_NAMING,
    );
    const out = (model: string, key: string) => ({
      topic: modelTopic(DEFAULT_NAMING, model, 'outputs'),
      key,
      value: encodePayload(
        'outputs',
        {
          id: key,
          tensors: [
            { msg: { name: `from-${model}`, datatype: 'FP32', shape: [1], contents: { fp32Contents: [1] } } },
          ],
        },
        model,
      ),
      headers: { pipeline: 'restart' },
    });
    const joinedKeys = () => bus.read(modelTopic(DEFAULT_NAMING, 'c', 'inputs')).map((r) => r.key);
    const engine = async () => {
      const e = new PipelineEngine(plan, bus, DEFAULT_NAMING, silent);
      await e.start();
      return e;
    };
    // k1 and k3 wait for their other half and hold the first offset of both topics; k2 completes.
    const first = await engine();
    await bus.publish([out('a', 'k1'), out('b', 'k3'), out('a', 'k2'), out('b', 'k2')]);
    await sleep(50);
    expect(joinedKeys()).toEqual(['k2']);
    await first.stop();
    // The replay from the held offsets re-reads k2's records: it must not join them again.
    const second = await engine();
    await sleep(50);
    expect(joinedKeys()).toEqual(['k2']);
    await bus.publish([out('b', 'k1'), out('a', 'k3')]);
    await sleep(50);
    await second.stop();
    const third = await engine();
    await sleep(50);
    await third.stop();
    expect(joinedKeys().sort()).toEqual(['k1', 'k2', 'k3']);
    const k1 = bus.read(modelTopic(DEFAULT_NAMING, 'c', 'inputs')).find((r) => r.key === 'k1');
    expect(decodePayload('inputs', k1?.value ?? Buffer.alloc(0)).tensors.map((t) => t.msg.name)).toEqual([
      'from-a',
      'from-b',
    ]);
  });
});
