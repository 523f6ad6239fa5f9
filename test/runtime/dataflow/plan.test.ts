import { describe, expect, it } from 'vitest';
import { planPipeline } from '../../../src/runtime/dataflow/plan.ts';
import { DEFAULT_NAMING } from '../../../src/spec/topics.ts';

describe('planPipeline', () => {
  it('resolves references to Seldon topic names', () => {
    const plan = planPipeline(
      'p',
      {
        steps: [
          { name: 'a' },
          {
            name: 'b',
            inputs: ['a.outputs.t', 'p.inputs.x'],
            triggers: ['a'],
            tensorMap: { 'a.outputs.t': 'y' },
            joinWindowMs: 5,
          },
        ],
        input: { externalInputs: ['other.step.m.outputs.z', 'q'] },
        output: { steps: ['b'] },
      },
      { prefix: 'seldon', namespace: 'ns' },
    );
    const [a, b, input, output] = plan.steps;
    expect(a.sources).toEqual([{ topic: 'seldon.ns.pipeline.p.inputs', pipeline: 'p', ref: 'p.inputs' }]);
    expect(a.sink).toBe('seldon.ns.model.a.inputs');
    expect(b.sources.map((s) => [s.topic, s.tensor])).toEqual([
      ['seldon.ns.model.a.outputs', 't'],
      ['seldon.ns.pipeline.p.inputs', 'x'],
    ]);
    expect(b.triggers[0].topic).toBe('seldon.ns.model.a.outputs');
    expect([...b.tensorMap]).toEqual([['seldon.ns.model.a.outputs\u0000t', 'y']]);
    expect(b.windowMs).toBe(5);
    expect(input.sources.map((s) => [s.topic, s.pipeline, s.tensor])).toEqual([
      ['seldon.ns.model.m.outputs', 'other', 'z'],
      ['seldon.ns.pipeline.q.outputs', 'q', undefined],
    ]);
    expect(input.sink).toBe('seldon.ns.pipeline.p.inputs');
    expect(output.sink).toBe('seldon.ns.pipeline.p.outputs');
    expect(output.sinkIo).toBe('outputs');
    expect(plan.topics).toContain('seldon.ns.errors.errors');
  });

  it('reports every bad reference with where it is', () => {
    expect(() =>
      planPipeline(
        'p',
        { steps: [{ name: 'a', inputs: ['zz', 'a.sideways'] }], output: { steps: ['nope'] } },
        DEFAULT_NAMING,
      ),
    ).toThrow(
      'pipeline "p": spec.steps[0] (a).inputs[0]: "zz" names no step of pipeline "p" (steps: a); spec.steps[0] (a).inputs[1]: "a.sideways" must be <step>[.(inputs|outputs)[.<tensor>]]; spec.output.steps[0]: "nope" names no step of pipeline "p" (steps: a)',
    );
  });

  it('orders the steps for an inline run when each reads only its own request', () => {
    const order = (spec: Parameters<typeof planPipeline>[1]) => {
      const plan = planPipeline('p', spec, DEFAULT_NAMING);
      return plan.inlineOrder?.map((i) => plan.steps[i].name);
    };
    // Listed out of order: each step still comes after the steps it reads (inputs, triggers, a step's inputs).
    expect(
      order({
        steps: [
          { name: 'c', inputs: ['a', 'b.inputs'], triggers: ['b'] },
          { name: 'b', inputs: ['a.outputs.t'] },
          { name: 'a' },
        ],
        output: { steps: ['c'] },
      }),
    ).toEqual(['a', 'b', 'c', '<output>']);
    // Reading other pipelines, batching or revisiting steps needs records to travel over topics.
    expect(order({ steps: [{ name: 'a' }], input: { externalInputs: ['q'] } })).toBeUndefined();
    expect(order({ steps: [{ name: 'a', batch: { size: 4 } }] })).toBeUndefined();
    expect(
      order({
        steps: [
          { name: 'a', inputs: ['p.inputs', 'b'], inputsJoinType: 'any' },
          { name: 'b', inputs: ['a'] },
        ],
        allowCycles: true,
      }),
    ).toBeUndefined();
    expect(
      order({
        steps: [
          { name: 'a', inputs: ['b'] },
          { name: 'b', inputs: ['a'] },
        ],
      }),
    ).toBeUndefined();
  });
});
