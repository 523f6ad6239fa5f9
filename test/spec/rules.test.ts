import { describe, expect, it } from 'vitest';
import { boundsViolations, effectiveRequirements, replicaCapacityBytes } from '../../src/spec/rules.ts';

describe('rules', () => {
  it('folds modelType and the explainer capability into the requirements, trimmed, each once', () => {
    expect(effectiveRequirements({ requirements: [' gpu', 'sklearn'], modelType: 'sklearn ' })).toEqual([
      'gpu',
      'sklearn',
    ]);
    expect(effectiveRequirements({ modelType: 'xgboost', explainer: { type: 'anchor_tabular' } })).toEqual([
      'xgboost',
      'alibi-explain',
    ]);
    expect(effectiveRequirements({})).toEqual([]);
  });

  it('adds the over-commit percentage to a replica, rounding down to whole bytes', () => {
    expect(replicaCapacityBytes(1000, 10)).toBe(1100);
    expect(replicaCapacityBytes(1001, 10)).toBe(1101);
    expect(replicaCapacityBytes(1000, 0)).toBe(1000);
  });

  it('names each way replicas break their bounds, a max of 0 meaning none', () => {
    expect(boundsViolations({ replicas: 3, minReplicas: 1, maxReplicas: 5 })).toEqual([]);
    expect(boundsViolations({ replicas: 2, minReplicas: 2, maxReplicas: 2 })).toEqual([]);
    expect(boundsViolations({ replicas: 9, maxReplicas: 0 })).toEqual([]);
    expect(boundsViolations({ replicas: 1, minReplicas: 4, maxReplicas: 2 })).toEqual([
      { kind: 'min-above-max', min: 4, max: 2 },
      { kind: 'below-min', replicas: 1, min: 4 },
    ]);
    expect(boundsViolations({ replicas: 3, maxReplicas: 2 })).toEqual([
      { kind: 'above-max', replicas: 3, max: 2 },
    ]);
  });
});
