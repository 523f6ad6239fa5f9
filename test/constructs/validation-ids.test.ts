import { describe, expect, it } from 'vitest';
import { Model } from '../../src/constructs/model.ts';
import { Pipeline } from '../../src/constructs/pipeline.ts';
import { Server } from '../../src/constructs/server.ts';
import { setup } from './helpers.ts';

describe('clashing construct ids', () => {
  it('names both kinds, the id and the fix instead of cdk8s raw error', () => {
    const { env } = setup();
    const iris = new Model(env, 'iris', { storageUri: 'gs://m/iris' });
    expect(() => new Pipeline(env, 'iris', { steps: [{ model: iris }] })).toThrow(
      'Pipeline "iris" clashes with the Model "iris" already in prod: construct ids must be unique within a scope; rename one of them, and set `name` if the Seldon name should stay "iris"',
    );
  });

  it('covers references declared elsewhere too', () => {
    const { env } = setup();
    new Model(env, 'iris', { storageUri: 'gs://m/iris' });
    expect(() => Server.fromName(env, 'iris', 'mlserver')).toThrow(
      /^Server "iris" clashes with the Model "iris" already in prod/,
    );
  });
});
