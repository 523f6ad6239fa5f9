import { describe, expect, it } from 'vitest';
import { Model } from '../../src/constructs/model.ts';
import { Server } from '../../src/constructs/server.ts';
import { problems, setup } from './helpers.ts';

describe('Server.fromName in placement checks', () => {
  it('checks models against the capabilities and memory an external server declares', () => {
    const { app, env } = setup();
    Server.fromName(env, 'shared', 'shared', { capabilities: ['sklearn'], memory: '1Gi' });
    new Model(env, 'big', { storageUri: 'gs://m/x', requirements: ['sklearn'], memory: '2Gi' });
    new Model(env, 'torch', { storageUri: 'gs://m/x', requirements: ['pytorch'] });
    expect(problems(app)).toEqual([
      'prod/big memory: is more than server "shared" can hold (1Gi + 0% over-commit = 1Gi)',
      'prod/torch requirements: no Server in namespace "prod" provides all of them; servers: shared (sklearn)',
    ]);
  });

  it('checks models pinned to it, and the fleet, when it declares replicas', () => {
    const { app, env } = setup();
    const shared = Server.fromName(env, 'shared', 'shared', {
      memory: '1Gi',
      overCommitPercentage: 10,
      replicas: 1,
    });
    new Model(env, 'two', { storageUri: 'gs://m/x', memory: '100Mi', replicas: 2, server: shared });
    new Model(env, 'a', { storageUri: 'gs://m/x', memory: '600Mi', server: shared });
    new Model(env, 'b', { storageUri: 'gs://m/x', memory: '600Mi', server: shared });
    expect(problems(app)).toEqual([
      'prod/two memory: 3 models can only be placed on server shared, and together need 1.37Gi (memory × replicas) but those servers hold 1.1Gi (memory × replicas × (1 + over-commit))',
      'prod/two replicas: needs 2 replicas but server "shared" runs at most 1 (one model replica per server replica)',
    ]);
  });

  it('trusts an external server that declares nothing', () => {
    const { app, env } = setup();
    const shared = Server.fromName(env, 'shared', 'shared');
    new Model(env, 'huge', {
      storageUri: 'gs://m/x',
      requirements: ['anything'],
      memory: '1Ti',
      replicas: 9,
    });
    new Model(env, 'pinned', { storageUri: 'gs://m/x', memory: '1Ti', replicas: 9, server: shared });
    expect(problems(app)).toEqual([]);
  });
});
