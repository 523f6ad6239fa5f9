import { describe, expect, it } from 'vitest';
import type { ModelView } from '../../../src/runtime/scheduler/models.ts';
import { experimentStatusOf, pipelineStatusOf } from '../../../src/runtime/scheduler/pipeline-status.ts';
import { unknownStepReferences } from '../../../src/spec/references.ts';
import type {
  Condition,
  ExperimentResource,
  ModelResource,
  PipelineResource,
} from '../../../src/spec/types.ts';

const resource = (name: string): ModelResource => ({
  apiVersion: 'mlops.seldon.io/v1alpha1',
  kind: 'Model',
  metadata: { name },
  spec: { storageUri: 'file:///m' },
});

/** A model view in the given state of its latest version. */
function view(name: string, state: string, reason = '', extra: Partial<ModelView> = {}): ModelView {
  return {
    name,
    versions: [],
    latest: { state, reason } as ModelView['latest'],
    deleted: false,
    resource: resource(name),
    scaling: { replicas: 1, minReplicas: 0, maxReplicas: 0 },
    ...extra,
  };
}

const pipeline = (steps: PipelineResource['spec']['steps'], output?: string[]): PipelineResource => ({
  apiVersion: 'mlops.seldon.io/v1alpha1',
  kind: 'Pipeline',
  metadata: { name: 'flow', generation: 3 },
  spec: { steps, ...(output ? { output: { steps: output } } : {}) },
});

const chain = pipeline([{ name: 'a' }, { name: 'b', inputs: ['a.outputs'] }], ['b']);
const byType = (conditions: Condition[] | undefined, type: string) =>
  conditions?.find((c) => c.type === type);

describe('pipelineStatusOf', () => {
  it('is Ready when every step model has a route, with observedGeneration', () => {
    const models = new Map([
      ['a', view('a', 'ModelAvailable')],
      ['b', view('b', 'ModelAvailable')],
    ]);
    const s = pipelineStatusOf(chain, models, new Set(['a', 'b']));
    expect(s.observedGeneration).toBe(3);
    expect(s.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual([
      'PipelineReady=True/PipelineReady',
      'PipelineGwReady=True/PipelineReady',
      'ModelsReady=True/ModelsAvailable',
      'Ready=True/Ready',
    ]);
  });

  it('names the step and model that is not declared (ModelNotFound)', () => {
    const models = new Map([['a', view('a', 'ModelAvailable')]]);
    const s = pipelineStatusOf(chain, models, new Set(['a']));
    const expected = {
      status: 'False',
      reason: 'ModelNotFound',
      message: 'step "b": model "b" is not declared',
    };
    expect(byType(s.conditions, 'ModelsReady')).toMatchObject(expected);
    expect(byType(s.conditions, 'Ready')).toMatchObject(expected);
    expect(byType(s.conditions, 'PipelineReady')?.status).toBe('True');
  });

  it('reports a loading model as progressing with its state and reason', () => {
    const models = new Map([
      ['a', view('a', 'ModelProgressing', 'loading on mlserver-0')],
      ['b', view('b', 'ModelAvailable')],
    ]);
    const s = pipelineStatusOf(chain, models, new Set(['b']));
    expect(byType(s.conditions, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ModelsProgressing',
      message: 'step "a": model "a" is ModelProgressing (loading on mlserver-0)',
    });
  });

  it('a failed, unschedulable or invalid model outranks a loading one; a missing one outranks all', () => {
    const loading = view('b', 'ModelProgressing');
    for (const failed of [
      view('a', 'ModelFailed', 'bad artifact'),
      view('a', 'ScheduleFailed', 'no server has sklearn'),
      view('a', 'ModelProgressing', '', { invalid: 'spec.memory: invalid quantity' }),
    ]) {
      const s = pipelineStatusOf(
        chain,
        new Map([
          ['a', failed],
          ['b', loading],
        ]),
        new Set(),
      );
      expect(byType(s.conditions, 'ModelsReady')?.reason).toBe('ModelFailed');
      expect(byType(s.conditions, 'ModelsReady')?.message).toContain('step "a": model "a" ');
      expect(byType(s.conditions, 'ModelsReady')?.message).toContain(
        '; step "b": model "b" is ModelProgressing',
      );
    }
    const gone = view('b', 'ModelAvailable', '', { deleted: true });
    const s = pipelineStatusOf(
      chain,
      new Map([
        ['a', view('a', 'ModelFailed')],
        ['b', gone],
      ]),
      new Set(),
    );
    expect(byType(s.conditions, 'Ready')?.reason).toBe('ModelNotFound');
  });

  it('a model serving an older version while the new one loads still counts (it has a route)', () => {
    const models = new Map([
      ['a', view('a', 'ModelProgressing')],
      ['b', view('b', 'ModelAvailable')],
    ]);
    const s = pipelineStatusOf(chain, models, new Set(['a', 'b']));
    expect(byType(s.conditions, 'Ready')?.status).toBe('True');
  });

  it('a reference to a step the pipeline lacks makes PipelineReady false (InvalidSpec)', () => {
    const p = pipeline(
      [
        { name: 'a', inputs: ['flow.inputs'] },
        { name: 'b', triggers: ['c.outputs'] },
      ],
      ['d'],
    );
    expect(unknownStepReferences('flow', p.spec)).toEqual([
      { where: 'step "b"', ref: 'c.outputs' },
      { where: 'output', ref: 'd' },
    ]);
    const s = pipelineStatusOf(p, new Map(), new Set(['a', 'b']));
    expect(byType(s.conditions, 'PipelineReady')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(byType(s.conditions, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'InvalidSpec',
      message:
        'step "b" reads "c.outputs", which names no step of this pipeline; output reads "d", which names no step of this pipeline',
    });
  });
});

describe('experimentStatusOf', () => {
  const experiment = (spec: Partial<ExperimentResource['spec']>): ExperimentResource => ({
    apiVersion: 'mlops.seldon.io/v1alpha1',
    kind: 'Experiment',
    metadata: { name: 'ab', generation: 2 },
    spec: { candidates: [], ...spec },
  });

  it('names each model candidate that cannot serve, and the mirror', () => {
    const e = experiment({
      candidates: [
        { name: 'a', weight: 1 },
        { name: 'b', weight: 1 },
      ],
      mirror: { name: 'm', percent: 10 },
    });
    const models = new Map([
      ['a', view('a', 'ModelAvailable')],
      ['b', view('b', 'ModelProgressing')],
    ]);
    const s = experimentStatusOf(e, models, new Set(['a']), new Map());
    expect(s.observedGeneration).toBe(2);
    expect(s.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}: ${c.message ?? ''}`)).toEqual([
      'ExperimentReady=False/ModelsProgressing: model "b" is ModelProgressing',
      'CandidatesReady=False/ModelsProgressing: model "b" is ModelProgressing',
      'MirrorReady=False/ModelNotFound: model "m" is not declared',
      'Ready=False/ModelsProgressing: model "b" is ModelProgressing',
    ]);
    const ok = experimentStatusOf(e, models, new Set(['a', 'b', 'm']), new Map());
    expect(ok.conditions?.every((c) => c.status === 'True')).toBe(true);
  });

  it('reads pipeline candidates from their Ready condition', () => {
    const e = experiment({
      resourceType: 'pipeline',
      candidates: [
        { name: 'p1', weight: 1 },
        { name: 'p2', weight: 1 },
      ],
    });
    const ready = new Map<string, Condition>([
      ['p1', { type: 'Ready', status: 'True', reason: 'Ready' }],
      [
        'p2',
        {
          type: 'Ready',
          status: 'False',
          reason: 'ModelFailed',
          message: 'step "x": model "x" is ModelFailed',
        },
      ],
    ]);
    expect(
      byType(experimentStatusOf(e, new Map(), new Set(), ready).conditions, 'CandidatesReady'),
    ).toMatchObject({
      status: 'False',
      reason: 'ModelFailed',
      message: 'pipeline "p2" is not ready: step "x": model "x" is ModelFailed',
    });
    ready.delete('p2');
    expect(byType(experimentStatusOf(e, new Map(), new Set(), ready).conditions, 'Ready')?.reason).toBe(
      'ModelNotFound',
    );
  });
});
