import { describe, expect, it } from 'vitest';
import { Model } from '../../src/constructs/model.ts';
import { JoinType, Pipeline } from '../../src/constructs/pipeline.ts';
import { problems, setup, synthOne } from './helpers.ts';

function models(env: ReturnType<typeof setup>['env'], ...names: string[]) {
  return names.map((n) => new Model(env, n, { storageUri: `gs://m/${n}` }));
}

describe('Pipeline', () => {
  it('renders a chain with bare step references and a single output', () => {
    const { env } = setup();
    const [a, b] = models(env, 'tfsimple1', 'tfsimple2');
    new Pipeline(env, 'chain', {
      steps: [{ model: a }, { model: b, inputs: [a] }],
      output: { steps: [b] },
    });
    expect(synthOne(env, 'Pipeline', 'chain').spec).toEqual({
      steps: [
        { name: 'tfsimple1', inputsJoinType: 'inner' },
        { name: 'tfsimple2', inputs: ['tfsimple1'], inputsJoinType: 'inner' },
      ],
      output: { steps: ['tfsimple2'] },
    });
  });

  it('renders a join with a tensor map, join settings and batching', () => {
    const { env } = setup();
    const [a, b, c] = models(env, 'tfsimple1', 'tfsimple2', 'tfsimple3');
    new Pipeline(env, 'join', {
      steps: [
        { model: a },
        { model: b },
        {
          model: c,
          inputs: [a.outputs('OUTPUT0'), b.outputs('OUTPUT1')],
          tensorMap: [
            { from: a.outputs('OUTPUT0'), to: 'INPUT0' },
            { from: b.outputs('OUTPUT1'), to: 'INPUT1' },
          ],
          inputsJoinType: JoinType.OUTER,
          joinWindowMs: 500,
          batch: { size: 4 },
        },
      ],
      output: { steps: [c.outputs()], stepsJoin: JoinType.ANY, joinWindowMs: 100 },
      cleanTopicsOnDelete: true,
    });
    expect(synthOne(env, 'Pipeline', 'join').spec).toEqual({
      steps: [
        { name: 'tfsimple1', inputsJoinType: 'inner' },
        { name: 'tfsimple2', inputsJoinType: 'inner' },
        {
          name: 'tfsimple3',
          inputs: ['tfsimple1.outputs.OUTPUT0', 'tfsimple2.outputs.OUTPUT1'],
          tensorMap: { 'tfsimple1.outputs.OUTPUT0': 'INPUT0', 'tfsimple2.outputs.OUTPUT1': 'INPUT1' },
          inputsJoinType: 'outer',
          joinWindowMs: 500,
          batch: { size: 4 },
        },
      ],
      output: { steps: ['tfsimple3.outputs'], stepsJoin: 'any', joinWindowMs: 100 },
      dataflow: { cleanTopicsOnDelete: true },
    });
  });

  it('reads its own inputs and triggers through pipeline.inputs()', () => {
    const { env, app } = setup();
    const [mul, add] = models(env, 'mul10', 'add10');
    const p = new Pipeline(env, 'trigger-joins', { output: { steps: [mul, add], stepsJoin: JoinType.ANY } });
    p.addStep(mul, {
      inputs: [p.inputs('INPUT')],
      triggers: [p.inputs('ok1'), p.inputs('ok2')],
      triggersJoinType: JoinType.ANY,
    });
    p.addStep(add, { inputs: [p.inputs('INPUT')], triggers: [p.inputs('ok3')] });
    expect(synthOne(env, 'Pipeline', 'trigger-joins').spec.steps).toEqual([
      {
        name: 'mul10',
        inputs: ['trigger-joins.inputs.INPUT'],
        triggers: ['trigger-joins.inputs.ok1', 'trigger-joins.inputs.ok2'],
        inputsJoinType: 'inner',
        triggersJoinType: 'any',
      },
      {
        name: 'add10',
        inputs: ['trigger-joins.inputs.INPUT'],
        triggers: ['trigger-joins.inputs.ok3'],
        inputsJoinType: 'inner',
      },
    ]);
    expect(problems(app)).toEqual([]);
  });

  it('renames tensors of its own inputs, reads whole inputs and model inputs', () => {
    const { env, app } = setup();
    const [mul, add, drift] = models(env, 'mul10', 'add10', 'drift');
    const p = new Pipeline(env, 'pipeline-inputs', { output: { steps: [mul, add.inputs('INPUT')] } });
    p.addStep(mul, { inputs: [p.inputs('INPUT0')], tensorMap: [{ from: p.inputs('INPUT0'), to: 'INPUT' }] });
    p.addStep(add, { inputs: [p.inputs('INPUT1')], tensorMap: [{ from: p.inputs('INPUT1'), to: 'INPUT' }] });
    p.addStep(drift, { inputs: [p.inputs()], batch: { size: 2 } });
    expect(synthOne(env, 'Pipeline', 'pipeline-inputs').spec).toEqual({
      steps: [
        {
          name: 'mul10',
          inputs: ['pipeline-inputs.inputs.INPUT0'],
          tensorMap: { 'pipeline-inputs.inputs.INPUT0': 'INPUT' },
          inputsJoinType: 'inner',
        },
        {
          name: 'add10',
          inputs: ['pipeline-inputs.inputs.INPUT1'],
          tensorMap: { 'pipeline-inputs.inputs.INPUT1': 'INPUT' },
          inputsJoinType: 'inner',
        },
        { name: 'drift', inputs: ['pipeline-inputs.inputs'], batch: { size: 2 }, inputsJoinType: 'inner' },
      ],
      output: { steps: ['mul10', 'add10.inputs.INPUT'] },
    });
    expect(problems(app)).toEqual([]);
  });

  it('takes external inputs and triggers from other pipelines in every reference form', () => {
    const { env, app } = setup();
    const [s1, s2] = models(env, 'tfsimple1', 'tfsimple2');
    const extended = new Pipeline(env, 'tfsimple-extended', {
      steps: [{ model: s1 }, { model: s2, inputs: [s1] }],
    });
    const other = Pipeline.fromName(env, 'Other', 'tfsimple-other');
    new Pipeline(env, 'combined', {
      steps: [{ model: s2 }],
      input: {
        externalInputs: [extended.outputs('OUTPUT0'), extended.step(s2).outputs('OUTPUT0'), other],
        externalTriggers: [other.step(s1), other.inputs()],
        joinType: JoinType.OUTER,
        triggersJoinType: JoinType.ANY,
        joinWindowMs: 1000,
        tensorMap: [{ from: extended.step(s2).outputs('OUTPUT0'), to: 'INPUT1' }],
      },
      output: { steps: [s2] },
      allowCycles: true,
      maxStepRevisits: 3,
    });
    const spec = synthOne(env, 'Pipeline', 'combined').spec;
    expect(spec.input).toEqual({
      externalInputs: [
        'tfsimple-extended.outputs.OUTPUT0',
        'tfsimple-extended.step.tfsimple2.outputs.OUTPUT0',
        'tfsimple-other',
      ],
      externalTriggers: ['tfsimple-other.step.tfsimple1', 'tfsimple-other.inputs'],
      joinType: 'outer',
      triggersJoinType: 'any',
      joinWindowMs: 1000,
      tensorMap: { 'tfsimple-extended.step.tfsimple2.outputs.OUTPUT0': 'INPUT1' },
    });
    expect([spec.allowCycles, spec.maxStepRevisits]).toEqual([true, 3]);
    expect(problems(app)).toEqual([]);
  });

  it('lists its steps in order, whether from props or addStep', () => {
    const { env } = setup();
    const [a, b] = models(env, 'a', 'b');
    const p = new Pipeline(env, 'p', { steps: [{ model: a }] });
    p.addStep(b, { inputs: [a] });
    expect(p.steps.map((s) => s.model.name)).toEqual(['a', 'b']);
  });

  it('reports a cycle formed only through triggers, unless allowCycles', () => {
    const { app, env } = setup();
    const [a, b] = models(env, 'a', 'b');
    // Both steps read the pipeline inputs; each waits for the other's outputs.
    const steps = [
      { model: a, triggers: [b.outputs('ready')] },
      { model: b, triggers: [a] },
    ];
    new Pipeline(env, 'waits', { steps });
    new Pipeline(env, 'allowed', { steps, allowCycles: true, maxStepRevisits: 1 });
    expect(problems(app)).toEqual(['prod/waits steps: the steps form a cycle']);
  });
});
