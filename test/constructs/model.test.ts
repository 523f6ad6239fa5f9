import { ApiObject, Size } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { Model } from '../../src/constructs/model.ts';
import { Pipeline } from '../../src/constructs/pipeline.ts';
import { Server } from '../../src/constructs/server.ts';
import { ServerConfig } from '../../src/constructs/server-config.ts';
import { problems, setup, synthOne } from './helpers.ts';

describe('Model', () => {
  it('emits only storageUri when nothing else is declared', () => {
    const { env } = setup();
    new Model(env, 'iris', { storageUri: 'gs://models/iris' });
    expect(synthOne(env, 'Model', 'iris')).toEqual({
      apiVersion: 'mlops.seldon.io/v1alpha1',
      kind: 'Model',
      metadata: { name: 'iris', namespace: 'prod' },
      spec: { storageUri: 'gs://models/iris' },
    });
  });

  it('renders every declared field in Seldon terms', () => {
    const { env } = setup();
    const server = new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER });
    const income = new Model(env, 'income', { storageUri: 'gs://m/income', requirements: ['sklearn'] });
    new Model(env, 'explainer', {
      name: 'income-explainer',
      storageUri: 'gs://m/explainer',
      artifactVersion: 2,
      modelType: 'sklearn',
      schemaUri: 'gs://m/schema.json',
      secret: { name: 'gcs-credentials' },
      requirements: ['alibi-explain'],
      memory: Size.mebibytes(100),
      replicas: 2,
      minReplicas: 1,
      maxReplicas: 4,
      server,
      preloaded: false,
      dedicated: true,
      logger: { percent: 10 },
      explainer: { type: 'anchor_tabular', target: income },
      parameters: { threshold: '0.5', mode: 'fast' },
      cleanTopicsOnDelete: true,
    });
    const spec = synthOne(env, 'Model', 'income-explainer').spec;
    expect(spec).toEqual({
      storageUri: 'gs://m/explainer',
      artifactVersion: 2,
      modelType: 'sklearn',
      schemaUri: 'gs://m/schema.json',
      secretName: 'gcs-credentials',
      requirements: ['alibi-explain'],
      memory: '100Mi',
      replicas: 2,
      minReplicas: 1,
      maxReplicas: 4,
      server: 'mlserver',
      preloaded: false,
      dedicated: true,
      logger: { percent: 10 },
      explainer: { type: 'anchor_tabular', modelRef: 'income' },
      parameters: [
        { name: 'threshold', value: '0.5' },
        { name: 'mode', value: 'fast' },
      ],
      dataflow: { cleanTopicsOnDelete: true },
    });
  });

  it('points explainers and LLM modules at pipelines with pipelineRef', () => {
    const { env } = setup();
    const m = new Model(env, 'm', { storageUri: 's' });
    const p = new Pipeline(env, 'chain', { steps: [{ model: m }] });
    new Model(env, 'llm', { storageUri: 's', llm: { target: p } });
    new Model(env, 'exp', { storageUri: 's', explainer: { type: 'anchor_text', target: p } });
    expect(synthOne(env, 'Model', 'llm').spec.llm).toEqual({ pipelineRef: 'chain' });
    expect(synthOne(env, 'Model', 'exp').spec.explainer).toEqual({
      type: 'anchor_text',
      pipelineRef: 'chain',
    });
  });

  it('keeps memory strings as written and an empty logger (log at the default rate)', () => {
    const { env } = setup();
    new Model(env, 'm', { storageUri: 's', memory: '1.5Gi', logger: {} });
    const spec = synthOne(env, 'Model', 'm').spec;
    expect(spec.memory).toBe('1.5Gi');
    expect(spec.logger).toEqual({});
  });

  it('keeps its raw object as the `Resource` child', () => {
    const { env } = setup();
    const m = new Model(env, 'iris', { storageUri: 's' });
    expect(ApiObject.of(m)).toBe(m.apiObject);
    expect(m.node.defaultChild).toBe(m.apiObject);
    m.apiObject.metadata.addLabel('team', 'ml');
    expect(synthOne(env, 'Model', 'iris').metadata.labels).toEqual({ team: 'ml' });
  });

  it('renders tensor references in Seldon syntax', () => {
    const { env } = setup();
    const m = new Model(env, 'iris', { storageUri: 's' });
    expect(m.outputs('probs').render()).toBe('iris.outputs.probs');
    expect(m.outputs().render()).toBe('iris.outputs');
    expect(m.inputs('x').render()).toBe('iris.inputs.x');
    expect(String(m.inputs())).toBe('iris.inputs');
  });

  it('adds modelType to the requirements the scheduler sees', () => {
    const { env } = setup();
    const m = new Model(env, 'iris', {
      storageUri: 's',
      requirements: ['python', 'sklearn'],
      modelType: 'sklearn',
    });
    expect(m.effectiveRequirements).toEqual(['python', 'sklearn']);
  });

  it('fromName references a model declared elsewhere without synthesizing it', () => {
    const { app, env } = setup();
    const other = Model.fromName(env, 'Shared', 'shared-model');
    expect(other.name).toBe('shared-model');
    expect(other.namespace).toBe('prod');
    expect(other.external).toBe(true);
    expect(other.outputs('y').render()).toBe('shared-model.outputs.y');
    new Pipeline(env, 'p', { steps: [{ model: other }] });
    expect(env.toJson().map((o: { kind: string }) => o.kind)).toEqual(['Pipeline']);
    expect(problems(app)).toEqual([]);
  });
});

describe('Model counts', () => {
  it('names a whole number above int32 as too large, and a fraction as not whole', () => {
    const { env } = setup();
    new Model(env, 'big', { storageUri: 'gs://m/big', artifactVersion: 2 ** 31 });
    new Model(env, 'half', { storageUri: 'gs://m/half', artifactVersion: 1.5 });
    const found = problems(env);
    const big = found.find((p) => p.includes('big'));
    const half = found.find((p) => p.includes('half'));
    expect(big).toContain('is outside 0 to 2147483647');
    expect(big).not.toContain('whole number');
    expect(half).toContain('must be a whole number');
  });
});
