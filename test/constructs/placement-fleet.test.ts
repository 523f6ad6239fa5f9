import { describe, expect, it } from 'vitest';
import { Model } from '../../src/constructs/model.ts';
import { Server } from '../../src/constructs/server.ts';
import { ServerConfig } from '../../src/constructs/server-config.ts';
import { problems, setup } from './helpers.ts';

const MLSERVER = ServerConfig.MLSERVER.capabilities?.[0] ?? 'sklearn';

describe('fleet capacity per capability pool', () => {
  it('reports models that each fit alone but not all together', () => {
    const { app, env } = setup();
    for (const id of ['a', 'b'])
      new Server(env, id, {
        serverConfig: ServerConfig.MLSERVER,
        memory: '4Gi',
        replicas: 2,
        overCommitPercentage: 0,
      });
    for (let i = 0; i < 200; i++)
      new Model(env, `m${i}`, {
        storageUri: 'gs://m/x',
        requirements: [MLSERVER],
        memory: '100Mi',
        replicas: 2,
      });
    expect(problems(app)).toEqual([
      'prod/m0 memory: 200 models can only be placed on servers a, b, and together need 39.06Gi (memory × replicas) but those servers hold 16Gi (memory × replicas × (1 + over-commit))',
    ]);
  });

  it('counts models pinned to a server of the pool, and the over-commit', () => {
    const { app, env } = setup();
    const a = new Server(env, 'a', {
      serverConfig: ServerConfig.MLSERVER,
      memory: '1Gi',
      overCommitPercentage: 50,
    });
    new Model(env, 'free', { storageUri: 'gs://m/x', requirements: [MLSERVER], memory: '1Gi' });
    expect(problems(app)).toEqual([]);
    new Model(env, 'pinned', { storageUri: 'gs://m/x', memory: '600Mi', server: a });
    expect(problems(app)).toEqual([
      'prod/free memory: 2 models can only be placed on server a, and together need 1.59Gi (memory × replicas) but those servers hold 1.5Gi (memory × replicas × (1 + over-commit))',
    ]);
  });
});
