import { describe, expect, it } from 'vitest';
import { Model } from '../../src/constructs/model.ts';
import { problems, setup } from './helpers.ts';

describe('Model explainer', () => {
  it('reports an explainer type the alibi-explain runtime does not know', () => {
    const { app, env } = setup();
    const income = new Model(env, 'income', { storageUri: 'gs://m/income' });
    new Model(env, 'explain', {
      storageUri: 'gs://m/e',
      explainer: { type: 'anchors_tabular', target: income },
    });
    // An Alibi explainer that MLServer's runtime does not serve.
    new Model(env, 'tree', { storageUri: 'gs://m/t', explainer: { type: 'tree_shap', target: income } });
    new Model(env, 'shap', { storageUri: 'gs://m/s', explainer: { type: 'kernel_shap', target: income } });
    expect(problems(app)).toEqual([
      'prod/explain explainer.type: is not an explainer type the alibi-explain runtime knows',
      'prod/tree explainer.type: is not an explainer type the alibi-explain runtime knows',
    ]);
  });

  it('reports an explainer without a type or a target', () => {
    const { app, env } = setup();
    new Model(env, 'explain', { storageUri: 'gs://m/e', explainer: {} });
    expect(problems(app)).toEqual([
      'prod/explain explainer.target: is required: a black-box explainer calls the model or pipeline it explains',
      'prod/explain explainer.type: is required for an explainer',
    ]);
  });

  it('reports a target of the wrong kind once', () => {
    const { app, env } = setup();
    new Model(env, 'explain', {
      storageUri: 'gs://m/e',
      explainer: { type: 'anchor_text', target: 'income' },
    } as never);
    expect(problems(app)).toEqual([
      'prod/explain explainer.target: must be a construct such as a Model, Pipeline or Server (or its fromName reference), not a string',
    ]);
  });
});
