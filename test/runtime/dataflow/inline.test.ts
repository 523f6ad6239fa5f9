import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../../src/runtime/bus/memory-bus.ts';
import { decodePayload } from '../../../src/runtime/dataflow/payload.ts';
import { PipelineGateway } from '../../../src/runtime/dataflow/pipeline-gateway.ts';
import { OipError } from '../../../src/runtime/oip/errors.ts';
import { HEADER_ERRORS, HEADER_INLINE } from '../../../src/spec/headers.ts';
import { DEFAULT_NAMING, errorsTopic, modelTopic, pipelineTopic } from '../../../src/spec/topics.ts';
import type { PipelineSpec } from '../../../src/spec/types.ts';
import { type FakeModel, runPipeline, silent, sleep, tensor } from './fixtures.ts';

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

async function pipeline(
  name: string,
  spec: PipelineSpec,
  models: Record<string, FakeModel>,
  opts: { inline: boolean; timeoutMs?: number },
) {
  const p = await runPipeline<MemoryBus>(name, spec, models, opts);
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
const echo: FakeModel = (inputs) => inputs;
const gate: FakeModel = (inputs) =>
  (inputs[0].data[0] as number) > 0 ? [tensor('pos', [1])] : [tensor('neg', [1])];
const request = (data: number[]) => ({ id: 'r', inputs: [tensor('in', data)] });

/** Shapes whose answers must not depend on where the steps run. */
const SHAPES: [string, PipelineSpec, Record<string, FakeModel>, number[][]][] = [
  [
    'chain',
    {
      steps: [{ name: 'a' }, { name: 'b', inputs: ['a'] }, { name: 'c', inputs: ['b'] }],
      output: { steps: ['c'] },
    },
    { a: add(1), b: add(10), c: add(100) },
    [[1], [2, 3]],
  ],
  [
    'tensormap',
    {
      steps: [
        { name: 'two', inputs: ['tensormap.inputs.in'] },
        { name: 'e', inputs: ['two.outputs.t2'], tensorMap: { 'two.outputs.t2': 'renamed' } },
      ],
      output: { steps: ['e'] },
    },
    { two: () => [tensor('t1', [1]), tensor('t2', [2])], e: echo },
    [[0]],
  ],
  [
    'conditional',
    {
      steps: [
        { name: 'g' },
        { name: 'up', inputs: ['g.outputs.pos'] },
        { name: 'down', inputs: ['g.outputs.neg'] },
      ],
      output: { steps: ['up', 'down'], stepsJoin: 'any' },
    },
    { g: gate, up: add(100, 'up'), down: add(-100, 'down') },
    [[5], [-5]],
  ],
  [
    'joins',
    {
      steps: [
        { name: 'a' },
        { name: 'b' },
        { name: 'inner', inputs: ['b', 'a'] },
        { name: 'outer', inputs: ['a', 'b'], inputsJoinType: 'outer' },
        { name: 'first', inputs: ['a', 'g.outputs.neg'], inputsJoinType: 'any' },
        { name: 'gated', inputs: ['a'], triggers: ['g.outputs.pos', 'b'], triggersJoinType: 'any' },
        { name: 'g' },
      ],
      output: { steps: ['inner', 'outer', 'first', 'gated'] },
    },
    {
      a: add(1, 'fromA'),
      b: add(2, 'fromB'),
      g: gate,
      inner: echo,
      outer: echo,
      first: echo,
      gated: echo,
    },
    [[1]],
  ],
];

describe('steps run inline in the engine', () => {
  it.each(SHAPES)('%s: answers as when the steps travel over topics', async (name, spec, models, inputs) => {
    const viaTopics = await pipeline(`${name}`, spec, models, { inline: false });
    const inline = await pipeline(`${name}`, spec, models, { inline: true });
    expect(viaTopics.engine.inline).toBe(false);
    expect(inline.engine.inline).toBe(true);
    for (const data of inputs) {
      const a = (await viaTopics.infer(request(data))).response.outputs;
      const b = (await inline.infer(request(data))).response.outputs;
      const sorted = (ts: typeof a) => [...ts].sort((x, y) => x.name.localeCompare(y.name));
      expect(sorted(b)).toEqual(sorted(a));
    }
  });

  it('writes every step input and output on the model topics, served once, and the output', async () => {
    const p = await pipeline(
      'records',
      { steps: [{ name: 'a' }, { name: 'b', inputs: ['a'] }], output: { steps: ['b'] } },
      { a: add(1), b: add(10) },
      { inline: true },
    );
    const { response } = await p.infer(request([1]), { 'x-tenant': 't1' });
    expect(response.outputs[0].data).toEqual([12]);
    const topic = (m: string, io: 'inputs' | 'outputs') => p.bus.read(modelTopic(DEFAULT_NAMING, m, io));
    const [aIn, aOut, bIn, bOut] = [
      topic('a', 'inputs'),
      topic('a', 'outputs'),
      topic('b', 'inputs'),
      topic('b', 'outputs'),
    ];
    for (const records of [aIn, aOut, bIn, bOut]) expect(records).toHaveLength(1);
    expect(decodePayload('inputs', aIn[0].value).tensors[0].msg.name).toBe('in');
    expect(decodePayload('outputs', aOut[0].value).tensors[0].msg.name).toBe('out');
    expect(decodePayload('inputs', bIn[0].value).tensors[0].msg.name).toBe('out');
    // Step records are marked as served, so neither the model gateway nor a later engine reading
    // the model topics acts on them again; the pipeline's output is not.
    expect(aIn[0].headers[HEADER_INLINE]).toBe('1');
    expect(aOut[0].headers[HEADER_INLINE]).toBe('1');
    expect(aOut[0].headers['x-tenant']).toBe('t1');
    expect(p.client.calls.a).toHaveLength(1);
    expect(p.client.calls.b).toHaveLength(1);
    const outputs = p.bus.read(pipelineTopic(DEFAULT_NAMING, 'records', 'outputs'));
    expect(outputs).toHaveLength(1);
    expect(outputs[0].headers[HEADER_INLINE]).toBeUndefined();
    expect(await p.metrics.registry.metrics()).toContain(
      'mlops_modelgateway_calls_total{model="a",outcome="ok"} 1',
    );
  });

  it('answers model errors to the caller and records them on the errors topic', async () => {
    const p = await pipeline(
      'err',
      {
        steps: [{ name: 'a' }, { name: 'bad', inputs: ['a'] }, { name: 'after', inputs: ['bad'] }],
        output: { steps: ['after'] },
      },
      { a: add(1), bad: () => new Error('shape mismatch in bad'), after: echo },
      { inline: true },
    );
    const err = await p.infer(request([1])).catch((e) => e);
    expect(err).toBeInstanceOf(OipError);
    expect(err.status).toBe(400);
    expect(err.message).toBe('bad: shape mismatch in bad');
    const errors = p.bus.read(errorsTopic(DEFAULT_NAMING));
    expect(errors.map((r) => r.headers[HEADER_ERRORS])).toEqual(['bad']);
    expect(p.client.calls.after).toBeUndefined();
  });

  it('an outer join takes what exists at once: no window to wait for', async () => {
    const p = await pipeline(
      'outerpartial',
      {
        steps: [
          { name: 'a' },
          { name: 'none' },
          { name: 'c', inputs: ['a', 'none.outputs.x'], inputsJoinType: 'outer', joinWindowMs: 60_000 },
        ],
        output: { steps: ['c'] },
      },
      { a: add(1, 'fromA'), none: () => [tensor('other', [0])], c: echo },
      { inline: true, timeoutMs: 2000 },
    );
    const { response } = await p.infer(request([0]));
    expect(response.outputs.map((t) => t.name)).toEqual(['fromA']);
  });
});

describe('answers from committed outputs', () => {
  it('the engine tells its committed outputs; the pipeline gateway answers from them', async () => {
    const p = await pipeline(
      'told',
      { steps: [{ name: 'a' }], output: { steps: ['a'] } },
      { a: add(1) },
      { inline: true },
    );
    const told: string[] = [];
    p.engine.onOutput = (records) => told.push(...records.map((r) => r.topic));
    await p.infer(request([1]));
    expect(told).toEqual([pipelineTopic(DEFAULT_NAMING, 'told', 'outputs')]);
  });

  it('a call is answered by `answer` without its output being read back', async () => {
    const bus = new MemoryBus(1);
    const gateway = new PipelineGateway(bus, DEFAULT_NAMING, ['direct'], silent, 2000);
    await gateway.start();
    running.push(gateway);
    const call = gateway.infer('direct', Buffer.from('req'), {});
    await sleep(10);
    const [published] = bus.read(pipelineTopic(DEFAULT_NAMING, 'direct', 'inputs'));
    const topic = pipelineTopic(DEFAULT_NAMING, 'direct', 'outputs');
    gateway.answer([
      { topic, key: published.key, value: Buffer.from('res'), headers: { pipeline: 'direct' } },
    ]);
    expect((await call).value.toString()).toBe('res');
    expect(bus.read(topic)).toEqual([]);
  });
});
