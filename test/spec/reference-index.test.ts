import { describe, expect, it } from 'vitest';
import { indexReferences } from '../../src/spec/reference-index.ts';
import type { KubeObject } from '../../src/spec/types.ts';

const object = (kind: string, name: string, spec: unknown, apiVersion = 'mlops.seldon.io/v1alpha1') =>
  ({ apiVersion, kind, metadata: { name }, spec }) as KubeObject;

describe('indexReferences', () => {
  it('lists what each object refers to, by kind, name and field', () => {
    const model = object('Model', 'm', {
      storageUri: 's',
      server: 'srv',
      explainer: { modelRef: 'target' },
      llm: { pipelineRef: 'chat' },
    });
    const server = object('Server', 'srv', { serverConfig: 'mlserver' });
    const pipeline = object('Pipeline', 'p', {
      steps: [{ name: 'a' }, { name: 'b', inputs: ['a.outputs.t'] }],
      input: {
        externalInputs: ['q.step.s.outputs.t'],
        externalTriggers: ['r'],
        tensorMap: { 'q.outputs.x': 'y' },
      },
    });
    const experiment = object('Experiment', 'e', {
      resourceType: 'pipeline',
      candidates: [{ name: 'p', weight: 1 }],
      mirror: { name: 'q', percent: 5 },
    });
    const index = indexReferences([model, server, pipeline, experiment]);
    const brief = (o: KubeObject) => index.get(o)?.map((r) => `${r.role} ${r.kind}/${r.name} ${r.field}`);
    expect(brief(model)).toEqual([
      'server Server/srv spec.server',
      'explainer Model/target spec.explainer.modelRef',
      'llm Pipeline/chat spec.llm.pipelineRef',
    ]);
    expect(brief(server)).toEqual(['server-config ServerConfig/mlserver spec.serverConfig']);
    expect(brief(pipeline)).toEqual([
      'step Model/a spec.steps[0].name',
      'step Model/b spec.steps[1].name',
      'external-input Pipeline/q spec.input.externalInputs[0]',
      'external-input Model/s spec.input.externalInputs[0]',
      'external-trigger Pipeline/r spec.input.externalTriggers[0]',
      'external-tensor-map Pipeline/q spec.input.tensorMap["q.outputs.x"]',
    ]);
    expect(index.get(pipeline)?.[2].data).toEqual({
      pipeline: 'q',
      step: 's',
      direction: 'outputs',
      tensor: 't',
    });
    expect(brief(experiment)).toEqual([
      'candidate Pipeline/p spec.candidates[0].name',
      'mirror Pipeline/q spec.mirror.name',
    ]);
  });

  it('skips other API groups and fields it cannot read', () => {
    const config = object('ConfigMap', 'c', undefined, 'v1');
    const broken = object('Pipeline', 'p', { steps: 'not a list', input: { externalInputs: [''] } });
    const index = indexReferences([config, broken]);
    expect(index.has(config)).toBe(false);
    expect(index.get(broken)).toEqual([]);
  });
});
