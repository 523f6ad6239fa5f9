import { App } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { Environment } from '../../src/constructs/environment.ts';
import { Runtime, type RuntimeProps } from '../../src/constructs/runtime.ts';
import { PvcRetentionPolicy, Server, type ServerProps } from '../../src/constructs/server.ts';
import { ServerConfig } from '../../src/constructs/server-config.ts';
import { synthesizeObjects } from '../../src/synth/synthesize.ts';
import { type Json, problems } from './helpers.ts';

function setupWith(runtime: RuntimeProps | undefined, servers: (env: Environment) => void) {
  const app = new App({ outdir: 'unused' });
  const env = new Environment(app, 'prod', { namespace: 'prod', createNamespace: false });
  servers(env);
  if (runtime) new Runtime(env, 'runtime', runtime);
  return { app, env, list: () => synthesizeObjects(app).map((o) => o.manifest as Json) };
}

function server(props: Partial<ServerProps> & { name?: string } = {}, runtime: RuntimeProps = {}) {
  const { list } = setupWith(runtime, (env) => {
    new Server(env, props.name ?? 'mlserver', { serverConfig: ServerConfig.MLSERVER, ...props });
  });
  return list();
}

function find(list: Json[], kind: string, name: string): Json {
  const found = list.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
}

const container = (pod: Json, name: string): Json => pod.containers.find((c: Json) => c.name === name);

describe('Server workloads', () => {
  it('an MLServer server: StatefulSet with the inference server and the agent sidecar', () => {
    const list = server({ replicas: 2, memory: '4Gi', overCommitPercentage: 30 });
    const sts = find(list, 'StatefulSet', 'mlserver');
    expect(sts.metadata.namespace).toBe('prod');
    expect(sts.spec.replicas).toBe(2);
    expect(sts.spec.serviceName).toBe('mlserver');
    expect(sts.spec.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'mlops-runtime',
      'app.kubernetes.io/component': 'server',
      'app.kubernetes.io/instance': 'mlops',
      'seldon-server-name': 'mlserver',
    });
    expect(sts.spec.template.metadata.labels).toMatchObject(sts.spec.selector.matchLabels);
    const pod = sts.spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.terminationGracePeriodSeconds).toBe(120);
    expect(pod.securityContext).toEqual({
      fsGroup: 10001,
      runAsGroup: 10001,
      runAsNonRoot: true,
      runAsUser: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.containers.map((c: Json) => c.name)).toEqual(['mlserver', 'agent']);

    const mlserver = container(pod, 'mlserver');
    expect(mlserver.image).toBe('docker.io/seldonio/mlserver:1.7.1');
    expect(mlserver.resources).toEqual({
      requests: { cpu: '1', 'ephemeral-storage': '256Mi', memory: '4Gi' },
      limits: { cpu: '2', 'ephemeral-storage': '2Gi', memory: '5Gi' },
    });
    expect(mlserver.env).toEqual(
      expect.arrayContaining([
        { name: 'MLSERVER_HTTP_PORT', value: '9000' },
        { name: 'MLSERVER_GRPC_PORT', value: '9500' },
        { name: 'MLSERVER_MODELS_DIR', value: '/mnt/agent/models' },
        { name: 'MLSERVER_LOAD_MODELS_AT_STARTUP', value: 'false' },
        // Writable places on a read-only root.
        { name: 'MLSERVER_METRICS_DIR', value: '/tmp/.metrics' },
        { name: 'MLSERVER_ENVIRONMENTS_DIR', value: '/tmp/.envs' },
      ]),
    );
    expect(mlserver.readinessProbe.httpGet).toEqual({ path: '/v2/health/ready', port: 'server-http' });
    expect(mlserver.livenessProbe.httpGet).toEqual({ path: '/v2/health/live', port: 'server-http' });
    expect(mlserver.ports).toContainEqual({ name: 'server-http', containerPort: 9000, protocol: 'TCP' });
    expect(mlserver.volumeMounts).toContainEqual({
      name: 'model-cache',
      mountPath: '/mnt/agent',
      readOnly: true,
    });
    // The inference server waits for the agent's drain; GET /drained starts none.
    expect(mlserver.lifecycle.preStop.httpGet).toEqual({ path: '/drained', port: 9008 });

    const agent = container(pod, 'agent');
    expect(agent.image).toMatch(/^ghcr\.io\/cdk8s-mlops\/mlops-runtime:\d+\.\d+\.\d+/);
    expect(agent.args).toEqual([
      'agent',
      '--host',
      '$(POD_NAME).mlserver',
      '--inference-url',
      'http://127.0.0.1:9000',
      '--inference-grpc',
      '127.0.0.1:9500',
      '--models-dir',
      '/mnt/agent/models',
      '--cache-dir',
      '/mnt/agent/cache',
      '--scheduler-token-file',
      '/var/run/secrets/mlops/scheduler/token',
      '--gateway',
      'mlops-gateway:9000',
    ]);
    const env = Object.fromEntries(agent.env.map((e: Json) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toEqual({
      POD_NAME: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } },
      POD_NAMESPACE: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } },
      SELDON_SERVER_NAME: 'mlserver',
      MEMORY_REQUEST: {
        resourceFieldRef: { containerName: 'mlserver', resource: 'requests.memory', divisor: '1' },
      },
      SELDON_OVERCOMMIT_PERCENTAGE: '30',
      MLOPS_SCHEDULER_ADDRESS: 'mlops-scheduler:9004',
      SELDON_SERVER_CAPABILITIES:
        'mlserver,alibi-detect,alibi-explain,huggingface,lightgbm,mlflow,python,sklearn,spark-mlib,xgboost',
    });
    expect(agent.ports).toEqual([
      { name: 'agent-http', containerPort: 9001, protocol: 'TCP' },
      { name: 'agent-grpc', containerPort: 9501, protocol: 'TCP' },
      { name: 'agent-admin', containerPort: 9008, protocol: 'TCP' },
    ]);
    expect(agent.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'agent-admin' });
    expect(agent.livenessProbe.httpGet).toEqual({ path: '/live', port: 'agent-admin' });
    // The drain is started from inside the pod, by POST (the image has Node, no shell).
    expect(agent.lifecycle.preStop.exec.command.slice(0, 2)).toEqual(['/usr/bin/node', '-e']);
    expect(agent.lifecycle.preStop.exec.command[2]).toContain(
      "fetch('http://127.0.0.1:9008/terminate',{method:'POST'})",
    );
    expect(agent.volumeMounts).toContainEqual({
      name: 'scheduler-token',
      mountPath: '/var/run/secrets/mlops/scheduler',
      readOnly: true,
    });
    expect(agent.securityContext.runAsUser).toBe(10001);
    expect(agent.volumeMounts).toContainEqual({ name: 'model-cache', mountPath: '/mnt/agent' });

    for (const c of pod.containers) {
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(c.resources.requests.cpu && c.resources.limits.memory).toBeTruthy();
      expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    }
    expect(pod.volumes).toEqual([
      { name: 'model-cache', emptyDir: { sizeLimit: '10Gi' } },
      {
        name: 'scheduler-token',
        projected: {
          sources: [
            { serviceAccountToken: { audience: 'mlops-scheduler', expirationSeconds: 3600, path: 'token' } },
          ],
        },
      },
      { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
    ]);
  });

  it('one headless Service (pod DNS names for the agents), a PDB and a NetworkPolicy', () => {
    const list = server();
    const selector = find(list, 'StatefulSet', 'mlserver').spec.selector.matchLabels;
    const svc = find(list, 'Service', 'mlserver');
    expect(svc.spec.clusterIP).toBe('None');
    expect(svc.spec.publishNotReadyAddresses).toBe(true);
    expect(svc.spec.selector).toEqual(selector);
    expect(svc.spec.ports.map((p: Json) => [p.name, p.port, p.targetPort])).toEqual([
      ['agent-http', 9001, 'agent-http'],
      ['agent-grpc', 9501, 'agent-grpc'],
    ]);
    expect(find(list, 'PodDisruptionBudget', 'mlserver').spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: selector },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    });
    const np = find(list, 'NetworkPolicy', 'mlserver').spec;
    expect(np.podSelector.matchLabels).toEqual(selector);
    expect(np.ingress[0].ports).toEqual([
      { protocol: 'TCP', port: 9001 },
      { protocol: 'TCP', port: 9501 },
    ]);
    expect(np.ingress[0].from[0].podSelector.matchLabels['app.kubernetes.io/component']).toBe('gateway');
    // The admin port (drain, metrics) is open to Prometheus only, not to every namespace.
    expect(np.ingress[1]).toEqual({
      from: [
        { namespaceSelector: {}, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } },
      ],
      ports: [{ protocol: 'TCP', port: 9008 }],
    });
    expect(np.egress[0]).toMatchObject({ ports: [{ protocol: 'TCP', port: 9004 }] });
  });

  it('an autoscaled server leaves replicas to the scheduler', () => {
    const sts = find(server({ replicas: 2, minReplicas: 1, maxReplicas: 4 }), 'StatefulSet', 'mlserver');
    expect(sts.spec).not.toHaveProperty('replicas');
    expect(find(server({}), 'StatefulSet', 'mlserver').spec.replicas).toBe(1);
  });

  it('a Triton server: tritonserver in explicit model control, shared memory volume', () => {
    const pod = find(server({ name: 'triton', serverConfig: ServerConfig.TRITON }), 'StatefulSet', 'triton')
      .spec.template.spec;
    const triton = container(pod, 'triton');
    expect(triton.image).toBe('nvcr.io/nvidia/tritonserver:24.08-py3');
    expect(triton.args).toContain('--model-control-mode=explicit');
    expect(triton.args).toContain('--model-repository=/mnt/agent/models');
    expect(triton.resources.requests.memory).toBe('1G');
    expect(pod.volumes).toContainEqual({ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '256Mi' } });
    expect(triton.volumeMounts).toContainEqual({ name: 'dshm', mountPath: '/dev/shm' });
  });

  it('a custom ServerConfig: its pod, without rclone, with our agent and hardening filled in', () => {
    const { list } = setupWith({}, (env) => {
      const config = new ServerConfig(env, 'custom', {
        capabilities: ['custom-cap'],
        podSpec: {
          nodeSelector: { pool: 'ml' },
          containers: [
            { name: 'rclone', image: 'rclone:latest' },
            { name: 'agent', image: 'agent:latest', env: [{ name: 'EXTRA', value: '1' }] },
            {
              name: 'server',
              image: 'example.org/server:2.0',
              resources: { requests: { memory: '3Gi' } },
              securityContext: { readOnlyRootFilesystem: false },
            },
          ],
        },
      });
      new Server(env, 'custom-server', {
        serverConfig: config,
        podSpec: { containers: [{ name: 'server', env: [{ name: 'A', value: 'b' }] }] },
      });
    });
    const pod = find(list(), 'StatefulSet', 'custom-server').spec.template.spec;
    expect(pod.nodeSelector).toEqual({ pool: 'ml' });
    expect(pod.containers.map((c: Json) => c.name)).toEqual(['server', 'agent']);
    const server = container(pod, 'server');
    expect(server.image).toBe('example.org/server:2.0');
    expect(server.env).toEqual([{ name: 'A', value: 'b' }]);
    // The container's own choice is kept; the rest of "restricted" is filled in.
    expect(server.securityContext).toMatchObject({
      readOnlyRootFilesystem: false,
      allowPrivilegeEscalation: false,
      runAsNonRoot: true,
    });
    expect(server.resources.requests.memory).toBe('3Gi');
    expect(server.readinessProbe.httpGet.port).toBe('server-http');
    expect(server.ports).toContainEqual({ name: 'server-http', containerPort: 9000, protocol: 'TCP' });
    const agent = container(pod, 'agent');
    expect(agent.image).toMatch(/mlops-runtime/);
    expect(agent.env).toContainEqual({ name: 'EXTRA', value: '1' });
    expect(agent.env).toContainEqual({ name: 'SELDON_SERVER_CAPABILITIES', value: 'custom-cap' });
    expect(agent.env).toContainEqual({
      name: 'MEMORY_REQUEST',
      valueFrom: { resourceFieldRef: { containerName: 'server', resource: 'requests.memory', divisor: '1' } },
    });
  });

  it('a persistent model cache: one claim per pod, with the Server’s retention policy', () => {
    const sts = find(
      server(
        { pvcRetention: { whenScaled: PvcRetentionPolicy.DELETE } },
        { modelCache: { persistent: true, size: '20Gi', storageClassName: 'fast' } },
      ),
      'StatefulSet',
      'mlserver',
    );
    expect(sts.spec.volumeClaimTemplates).toEqual([
      {
        metadata: { name: 'model-cache' },
        spec: {
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: '20Gi' } },
          storageClassName: 'fast',
        },
      },
    ]);
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenScaled: 'Delete' });
    expect(sts.spec.template.spec.volumes.map((v: Json) => v.name)).toEqual(['scheduler-token', 'tmp']);
  });

  it('servers declared before and after the Runtime both get workloads; without a Runtime none', () => {
    const app = new App({ outdir: 'unused' });
    const env = new Environment(app, 'prod', { namespace: 'prod', createNamespace: false });
    new Server(env, 'before', { serverConfig: ServerConfig.MLSERVER });
    new Runtime(env, 'runtime');
    new Server(env, 'after', { serverConfig: ServerConfig.MLSERVER });
    const bare = new Environment(app, 'bare', { namespace: 'bare', createNamespace: false });
    new Server(bare, 'alone', { serverConfig: ServerConfig.MLSERVER });
    const sets = synthesizeObjects(app)
      .map((o) => o.manifest)
      .filter((m) => m.kind === 'StatefulSet' && m.metadata.name !== 'mlops-dataflow')
      .map((m) => `${m.metadata.namespace}/${m.metadata.name}`);
    expect(sets.sort()).toEqual(['prod/after', 'prod/before']);
    expect(bare.toJson().map((o: Json) => o.kind)).toEqual(['Server']);
  });

  it('a configuration declared elsewhere cannot be built into pods: a finding with the fix', () => {
    const { app } = setupWith({}, (env) => {
      new Server(env, 'gpu', { serverConfig: ServerConfig.fromName('gpu-config') });
    });
    expect(problems(app)).toEqual([
      'prod/gpu serverConfig: the runtime cannot build pods from the configuration "gpu-config" declared elsewhere: its pod spec is unknown here',
    ]);
  });
});

describe('Server workloads: configurations', () => {
  it('a configuration with only the agent has no inference server: a finding', () => {
    const { app } = setupWith({}, (env) => {
      const config = new ServerConfig(env, 'agent-only', {
        podSpec: { containers: [{ name: 'agent', image: 'a:1' }] },
      });
      new Server(env, 'broken', { serverConfig: config });
    });
    expect(problems(app)).toContain(
      'prod/broken serverConfig: the configuration has no inference server container besides the agent',
    );
  });

  it("a configuration's own claim templates are kept, with the Server's retention policy", () => {
    const { list } = setupWith({}, (env) => {
      const config = new ServerConfig(env, 'with-claims', {
        podSpec: { containers: [{ name: 'server', image: 'example.org/s:1' }] },
        volumeClaimTemplates: [
          {
            name: 'scratch',
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
          },
        ],
      });
      new Server(env, 'claims', {
        serverConfig: config,
        pvcRetention: { whenDeleted: PvcRetentionPolicy.DELETE },
      });
    });
    const sts = find(list(), 'StatefulSet', 'claims');
    expect(sts.spec.volumeClaimTemplates).toEqual([
      {
        metadata: { name: 'scratch' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
    ]);
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Delete' });
  });

  it("bounds the agent's local disk by its emptyDir model cache plus 1Gi, or 1Gi with a persistent cache", () => {
    const agentOf = (list: Json[]) =>
      container(find(list, 'StatefulSet', 'mlserver').spec.template.spec, 'agent');
    const inMemory = agentOf(server({}, { modelCache: { size: '10Gi' } }));
    expect(inMemory.resources.limits['ephemeral-storage']).toBe('11Gi');
    expect(inMemory.resources.requests['ephemeral-storage']).toBe('64Mi');
    const persistent = agentOf(server({}, { modelCache: { persistent: true, size: '20Gi' } }));
    expect(persistent.resources.limits['ephemeral-storage']).toBe('1Gi');
  });
});
