import { describe, expect, it } from 'vitest';
import { Model } from '../../src/constructs/model.ts';
import { Pipeline } from '../../src/constructs/pipeline.ts';
import { problems, setup } from './helpers.ts';

describe('Pipeline allowCycles', () => {
  it('reports allowCycles with maxStepRevisits left at 0: the loop could never iterate', () => {
    const { app, env } = setup();
    const a = new Model(env, 'a', { storageUri: 'gs://m/a' });
    new Pipeline(env, 'unset', { steps: [{ model: a }], allowCycles: true });
    new Pipeline(env, 'zero', { steps: [{ model: a }], allowCycles: true, maxStepRevisits: 0 });
    new Pipeline(env, 'iterates', { steps: [{ model: a }], allowCycles: true, maxStepRevisits: 5 });
    const message =
      'maxStepRevisits: is 0 with allowCycles: true, so a message is sent to the error topic on its first revisit and the loop never iterates';
    expect(problems(app)).toEqual([`prod/unset ${message}`, `prod/zero ${message}`]);
  });
});
