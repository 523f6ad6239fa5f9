import { describe, expect, it } from 'vitest';
import { Experiment } from '../../src/constructs/experiment.ts';
import { Model } from '../../src/constructs/model.ts';
import { Pipeline } from '../../src/constructs/pipeline.ts';
import { problems, setup, synthOne } from './helpers.ts';

describe('Experiment', () => {
  it('splits traffic between models; resourceType is left to its default', () => {
    const { env, app } = setup();
    const iris = new Model(env, 'iris', { storageUri: 's' });
    const iris2 = new Model(env, 'iris2', { storageUri: 's' });
    const shadow = new Model(env, 'iris3', { storageUri: 's' });
    const e = new Experiment(env, 'ab', {
      candidates: [
        { target: iris, weight: 50 },
        { target: iris2, weight: 50 },
      ],
      default: iris,
      mirror: { target: shadow, percent: 25 },
    });
    expect(synthOne(env, 'Experiment', 'ab').spec).toEqual({
      candidates: [
        { name: 'iris', weight: 50 },
        { name: 'iris2', weight: 50 },
      ],
      default: 'iris',
      mirror: { name: 'iris3', percent: 25 },
    });
    expect(e.resourceType).toBe('model');
    expect(problems(app)).toEqual([]);
  });

  it('infers resourceType pipeline from pipeline candidates', () => {
    const { env } = setup();
    const m = new Model(env, 'add10', { storageUri: 's' });
    const p1 = new Pipeline(env, 'pipeline-add10', { steps: [{ model: m }] });
    const p2 = Pipeline.fromName(env, 'Mul', 'pipeline-mul10');
    new Experiment(env, 'addmul10', {
      candidates: [{ target: p1, weight: 100 }],
      mirror: { target: p2, percent: 100 },
    });
    expect(synthOne(env, 'Experiment', 'addmul10').spec).toEqual({
      candidates: [{ name: 'pipeline-add10', weight: 100 }],
      mirror: { name: 'pipeline-mul10', percent: 100 },
      resourceType: 'pipeline',
    });
  });

  it('refuses a weight above the 32-bit range, saying so rather than asking for a whole number', () => {
    const { env, app } = setup();
    const iris = new Model(env, 'iris', { storageUri: 's' });
    const iris2 = new Model(env, 'iris2', { storageUri: 's' });
    new Experiment(env, 'ab', {
      candidates: [
        { target: iris, weight: 2147483647 },
        { target: iris2, weight: 2147483648 },
      ],
    });
    const found = problems(app);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^prod\/ab candidates\[1\]\.weight: .*2147483647/);
    expect(found[0]).not.toContain('whole number');
  });
});
