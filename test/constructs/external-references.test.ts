import { describe, expect, it } from 'vitest';
import { Experiment } from '../../src/constructs/experiment.ts';
import { Model } from '../../src/constructs/model.ts';
import { Pipeline } from '../../src/constructs/pipeline.ts';
import { Server } from '../../src/constructs/server.ts';
import { ServerConfig } from '../../src/constructs/server-config.ts';
import { EXTERNAL_REFERENCES_ANNOTATION } from '../../src/spec/annotations.ts';
import { type Json, setup, synthOne } from './helpers.ts';

const externalOf = (o: Json): string | undefined => o.metadata.annotations?.[EXTERNAL_REFERENCES_ANNOTATION];

describe('references to objects declared elsewhere', () => {
  it('are listed on the referring object, sorted, so reviews of the manifests trust them', () => {
    const { env } = setup();
    const shared = Server.fromName(env, 'shared', 'shared-mlserver');
    const local = new Model(env, 'local', { storageUri: 'gs://m/local' });
    const remote = Model.fromName(env, 'remote', 'remote-model');
    const upstream = Pipeline.fromName(env, 'upstream', 'upstream-flow');
    new Model(env, 'pinned', { storageUri: 'gs://m/pinned', server: shared });
    const flow = new Pipeline(env, 'flow', { input: { externalInputs: [upstream.outputs('x')] } });
    flow.addStep(local);
    flow.addStep(remote, { inputs: [local.outputs()] });
    new Experiment(env, 'ab', {
      candidates: [
        { target: local, weight: 1 },
        { target: remote, weight: 1 },
      ],
    });

    expect(externalOf(synthOne(env, 'Model', 'pinned'))).toBe('Server/shared-mlserver');
    expect(externalOf(synthOne(env, 'Pipeline', 'flow'))).toBe('Model/remote-model,Pipeline/upstream-flow');
    expect(externalOf(synthOne(env, 'Experiment', 'ab'))).toBe('Model/remote-model');
  });

  it('add nothing when every reference is declared in the app or installed with Seldon', () => {
    const { env } = setup();
    const server = new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER });
    const iris = new Model(env, 'iris', { storageUri: 'gs://m/iris', server });
    new Experiment(env, 'ab', { candidates: [{ target: iris, weight: 1 }] });
    for (const [kind, name] of [
      ['Server', 'mlserver'],
      ['Model', 'iris'],
      ['Experiment', 'ab'],
    ]) {
      expect(synthOne(env, kind, name).metadata).not.toHaveProperty('annotations');
    }
  });

  it('include server configurations installed elsewhere', () => {
    const { env } = setup();
    new Server(env, 'custom', { serverConfig: ServerConfig.fromName('gpu-mlserver') });
    expect(externalOf(synthOne(env, 'Server', 'custom'))).toBe('ServerConfig/gpu-mlserver');
  });
});
