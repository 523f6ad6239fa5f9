import { Size } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { PvcRetentionPolicy, Server } from '../../src/constructs/server.ts';
import { ServerConfig } from '../../src/constructs/server-config.ts';
import { setup, synthOne } from './helpers.ts';

describe('Server', () => {
  it('emits only the server configuration when nothing else is declared', () => {
    const { env } = setup();
    new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER });
    expect(synthOne(env, 'Server', 'mlserver').spec).toEqual({ serverConfig: 'mlserver' });
  });

  it('renders memory and over-commit the Seldon way, inside the pod spec', () => {
    const { env } = setup();
    const s = new Server(env, 'triton-big', {
      serverConfig: ServerConfig.TRITON,
      memory: Size.gibibytes(8),
      overCommitPercentage: 25,
    });
    expect(synthOne(env, 'Server', 'triton-big').spec.podSpec).toEqual({
      containers: [
        { name: 'triton', resources: { requests: { memory: '8Gi' } } },
        { name: 'agent', env: [{ name: 'SELDON_OVERCOMMIT_PERCENTAGE', value: '25' }] },
      ],
    });
    expect(s.memoryBytes).toBe(8 * 1024 ** 3);
    expect(s.overCommitPercentage).toBe(25);
  });

  it('merges memory and over-commit into containers the pod spec already declares', () => {
    const { env } = setup();
    const podSpec = {
      nodeSelector: { pool: 'gpu' },
      containers: [
        {
          name: 'mlserver',
          image: 'seldonio/mlserver:1.6.0',
          resources: { limits: { 'nvidia.com/gpu': 1 } },
        },
        {
          name: 'agent',
          env: [
            { name: 'SELDON_LOG_LEVEL', value: 'debug' },
            { name: 'SELDON_OVERCOMMIT_PERCENTAGE', value: '5' },
          ],
        },
      ],
    };
    new Server(env, 'gpu', {
      serverConfig: ServerConfig.MLSERVER,
      podSpec,
      memory: '16Gi',
      overCommitPercentage: 0,
    });
    expect(synthOne(env, 'Server', 'gpu').spec.podSpec).toEqual({
      nodeSelector: { pool: 'gpu' },
      containers: [
        {
          name: 'mlserver',
          image: 'seldonio/mlserver:1.6.0',
          resources: { limits: { 'nvidia.com/gpu': 1 }, requests: { memory: '16Gi' } },
        },
        {
          name: 'agent',
          env: [
            { name: 'SELDON_LOG_LEVEL', value: 'debug' },
            { name: 'SELDON_OVERCOMMIT_PERCENTAGE', value: '0' },
          ],
        },
      ],
    });
    // The caller's object is not modified.
    expect(podSpec.containers[0].resources).toEqual({ limits: { 'nvidia.com/gpu': 1 } });
  });

  it('renders every other declared field', () => {
    const { env } = setup();
    new Server(env, 'custom', {
      serverConfig: ServerConfig.MLSERVER,
      capabilities: ['mlserver-1.6', 'sklearn'],
      extraCapabilities: ['gpu'],
      imageOverrides: { agent: { name: 'agent', image: 'agent:2' } },
      replicas: 2,
      minReplicas: 1,
      maxReplicas: 5,
      pvcRetention: { whenDeleted: PvcRetentionPolicy.DELETE, whenScaled: PvcRetentionPolicy.RETAIN },
      deploymentStrategy: { type: 'RollingUpdate', maxSurge: '50%', maxUnavailable: 0 },
      disableAutoUpdate: true,
    });
    expect(synthOne(env, 'Server', 'custom').spec).toEqual({
      serverConfig: 'mlserver',
      capabilities: ['mlserver-1.6', 'sklearn'],
      extraCapabilities: ['gpu'],
      imageOverrides: { agent: { name: 'agent', image: 'agent:2' } },
      replicas: 2,
      minReplicas: 1,
      maxReplicas: 5,
      statefulSetPersistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
      deploymentStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '50%', maxUnavailable: 0 } },
      disableAutoUpdate: true,
    });
  });

  it('advertises capabilities: its own, else the configuration’s plus extra ones', () => {
    const { env } = setup();
    const own = new Server(env, 'a', { serverConfig: ServerConfig.MLSERVER, capabilities: ['x'] });
    const extra = new Server(env, 'b', { serverConfig: ServerConfig.TRITON, extraCapabilities: ['gpu'] });
    const unknown = new Server(env, 'c', { serverConfig: ServerConfig.fromName('custom') });
    expect(own.capabilities).toEqual(['x']);
    expect(extra.capabilities).toEqual([...(ServerConfig.TRITON.capabilities ?? []), 'gpu']);
    expect(unknown.capabilities).toBeUndefined();
    const empty = new Server(env, 'd', { serverConfig: ServerConfig.MLSERVER, capabilities: [] });
    expect(empty.capabilities).toEqual(ServerConfig.MLSERVER.capabilities);
    expect(synthOne(env, 'Server', 'd').spec).toEqual({ serverConfig: 'mlserver' });
  });

  it('knows the built-in capacity when memory is not declared, and reads a pod spec request', () => {
    const { env } = setup();
    const builtIn = new Server(env, 'a', { serverConfig: ServerConfig.MLSERVER });
    const fromPod = new Server(env, 'b', {
      serverConfig: ServerConfig.TRITON,
      podSpec: { containers: [{ name: 'triton', resources: { requests: { memory: '3Gi' } } }] },
    });
    expect([builtIn.memoryBytes, builtIn.overCommitPercentage]).toEqual([1e9, 10]);
    expect(fromPod.memoryBytes).toBe(3 * 1024 ** 3);
  });

  it('fromName references a server declared elsewhere', () => {
    const { env } = setup();
    const s = Server.fromName(env, 'Shared', 'shared', { capabilities: ['sklearn'] });
    expect([s.name, s.namespace, s.external, s.capabilities]).toEqual(['shared', 'prod', true, ['sklearn']]);
    expect(env.toJson()).toEqual([]);
  });
});
