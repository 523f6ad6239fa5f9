import { describe, expect, it } from 'vitest';
import { Server } from '../../src/constructs/server.ts';
import { ServerConfig, type ServerConfigProps } from '../../src/constructs/server-config.ts';
import { problems, setup, synthOne } from './helpers.ts';

const podSpec = () => ({
  containers: [
    { name: 'rclone', image: 'rclone:1' },
    { name: 'agent', image: 'agent:1', env: [{ name: 'SELDON_OVERCOMMIT_PERCENTAGE', value: '30' }] },
    { name: 'vllm', image: 'vllm:1', resources: { requests: { memory: '20Gi' } } },
  ],
});

describe('ServerConfig', () => {
  it('built-ins name Seldon’s shipped configurations and their capabilities', () => {
    expect(ServerConfig.MLSERVER.name).toBe('mlserver');
    expect(ServerConfig.MLSERVER.capabilities).toContain('sklearn');
    expect(ServerConfig.MLSERVER.inferenceContainer).toBe('mlserver');
    expect(ServerConfig.TRITON.name).toBe('triton');
    expect(ServerConfig.TRITON.capabilities).toEqual([
      'triton',
      'dali',
      'fil',
      'onnx',
      'openvino',
      'python',
      'pytorch',
      'tensorflow',
      'tensorrt',
    ]);
  });

  it('is not synthesized for built-ins; a custom one is, with its capabilities on the agent', () => {
    const { env } = setup();
    new Server(env, 'builtin', { serverConfig: ServerConfig.MLSERVER });
    const config = new ServerConfig(env, 'vllm', {
      podSpec: podSpec(),
      capabilities: ['vllm', 'llm'],
      volumeClaimTemplates: [{ name: 'models', spec: { accessModes: ['ReadWriteOnce'] } }],
    });
    expect(env.toJson().map((o: { kind: string }) => o.kind)).toEqual(['Server', 'ServerConfig']);
    const spec = synthOne(env, 'ServerConfig', 'vllm').spec;
    expect(spec.podSpec.containers[1]).toEqual({
      name: 'agent',
      image: 'agent:1',
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      env: [
        { name: 'SELDON_OVERCOMMIT_PERCENTAGE', value: '30' },
        { name: 'SELDON_SERVER_CAPABILITIES', value: 'vllm,llm' },
      ],
    });
    expect(spec.volumeClaimTemplates).toEqual([{ name: 'models', spec: { accessModes: ['ReadWriteOnce'] } }]);
    expect(config.capabilities).toEqual(['vllm', 'llm']);
  });

  it('writes its pod spec hardened to the restricted Pod Security Standard, keeping what it declares', () => {
    const { env } = setup();
    const spec = podSpec();
    new ServerConfig(env, 'vllm', {
      podSpec: {
        ...spec,
        securityContext: { runAsUser: 1000 },
        initContainers: [
          { name: 'fetch', image: 'fetch:1', securityContext: { readOnlyRootFilesystem: true } },
        ],
      },
    });
    const pod = synthOne(env, 'ServerConfig', 'vllm').spec.podSpec;
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const restricted = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
    expect(pod.containers.map((c: { securityContext: unknown }) => c.securityContext)).toEqual([
      restricted,
      restricted,
      restricted,
    ]);
    expect(pod.initContainers[0].securityContext).toEqual({ ...restricted, readOnlyRootFilesystem: true });
  });

  it('derives the inference container, capacity and over-commit from the pod spec', () => {
    const { env } = setup();
    const config = new ServerConfig(env, 'vllm', { podSpec: podSpec() });
    expect(config.inferenceContainer).toBe('vllm');
    expect(config.defaultMemoryBytes).toBe(20 * 1024 ** 3);
    expect(config.defaultOverCommitPercentage).toBe(30);
    expect(config.capabilities).toBeUndefined();
    const server = new Server(env, 'llm', { serverConfig: config, memory: '40Gi' });
    expect(synthOne(env, 'Server', 'llm').spec).toEqual({
      serverConfig: 'vllm',
      podSpec: { containers: [{ name: 'vllm', resources: { requests: { memory: '40Gi' } } }] },
    });
    expect(server.overCommitPercentage).toBe(30);
  });

  it('reads capabilities already written in the agent environment', () => {
    const { env } = setup();
    const agent = { name: 'agent', env: [{ name: 'SELDON_SERVER_CAPABILITIES', value: 'a, b' }] };
    expect(new ServerConfig(env, 'c', { podSpec: { containers: [agent] } }).capabilities).toEqual(['a', 'b']);
  });

  it('fromName describes a configuration installed elsewhere', () => {
    const c = ServerConfig.fromName('huggingface', {
      capabilities: ['huggingface'],
      inferenceContainer: 'mlserver',
    });
    expect(c).toMatchObject({
      name: 'huggingface',
      capabilities: ['huggingface'],
      inferenceContainer: 'mlserver',
    });
  });

  it('reports a pod spec without containers and capabilities without an agent', () => {
    const { app, env } = setup();
    new ServerConfig(env, 'empty', { podSpec: { containers: [] }, capabilities: ['x'] });
    expect(problems(app)).toEqual([
      'prod/empty capabilities: capabilities are read by the "agent" container, which the pod spec lacks',
      'prod/empty podSpec.containers: a server configuration needs at least one container',
    ]);
  });

  it('keeps a template as written when asked, and writes each accepted check with its reason', () => {
    const { env } = setup();
    new ServerConfig(env, 'vllm', {
      podSpec: podSpec(),
      hardenPodSpec: false,
      acceptPolicy: { probes: 'vendor image without health endpoints' },
    });
    const config = synthOne(env, 'ServerConfig', 'vllm');
    expect(config.spec.podSpec).toEqual(podSpec());
    expect(config.metadata.annotations).toEqual({
      'review.cdk8s-mlops.io/accept-probes': 'vendor image without health endpoints',
    });
  });

  it('reports an acceptance of an unknown check or without a reason', () => {
    const { app, env } = setup();
    new ServerConfig(env, 'c', {
      podSpec: podSpec(),
      acceptPolicy: { probes: ' ', 'secret-in-git': 'never' } as ServerConfigProps['acceptPolicy'],
    });
    expect(problems(app)).toEqual([
      'prod/c acceptPolicy.probes: an accepted check needs a reason',
      'prod/c acceptPolicy.secret-in-git: is not a policy check a pod template may fail',
    ]);
  });
});
