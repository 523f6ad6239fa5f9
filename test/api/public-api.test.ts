import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.ts';

describe('public API', () => {
  it('exports the constructs and synthesis', () => {
    for (const name of [
      'MlopsApp',
      'Environment',
      'Model',
      'Server',
      'ServerConfig',
      'Pipeline',
      'Experiment',
      'Runtime',
    ]) {
      expect(typeof (api as Record<string, unknown>)[name], name).toBe('function');
    }
    expect(api.JoinType.INNER).toBe('inner');
  });

  it('keeps internal helpers internal', () => {
    const exported = Object.keys(api);
    for (const internal of [
      'addRule',
      'addProblem',
      'memoize',
      'treeChanged',
      'renderReference',
      'strictSchema',
    ]) {
      expect(exported, internal).not.toContain(internal);
    }
  });
});
