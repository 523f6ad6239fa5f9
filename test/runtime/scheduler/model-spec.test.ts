import { describe, expect, it } from 'vitest';
import { definitionOf } from '../../../src/runtime/scheduler/model-spec.ts';
import { effectiveRequirements } from '../../../src/spec/rules.ts';
import type { ModelResource } from '../../../src/spec/types.ts';

const model = (spec: Record<string, unknown>): ModelResource =>
  ({
    apiVersion: 'mlops.seldon.io/v1alpha1',
    kind: 'Model',
    metadata: { name: 'iris', namespace: 'prod' },
    spec: { storageUri: 'gs://models/iris', memory: '100Mi', ...spec },
  }) as ModelResource;

describe('model definitions', () => {
  it('need what synthesis declares: requirements and model type trimmed, once each, explainers included', () => {
    const spec = {
      requirements: [' sklearn ', 'sklearn'],
      modelType: ' gpu ',
      explainer: { type: 'anchor_tabular' },
    };
    const { requirements } = definitionOf(model(spec), 1);
    expect(requirements).toEqual(['sklearn', 'gpu', 'alibi-explain']);
    expect(requirements).toEqual(effectiveRequirements(spec));
  });
});
