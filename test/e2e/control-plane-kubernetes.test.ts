// The control plane in cluster mode: desired state and status on a real kube-apiserver, models on
// real MLServer, autoscaling through the custom resources' scale subresource.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HEALTH_SCRIPTS, healthScript } from '../../src/cli/argocd-health.ts';
import { KubernetesSource } from '../../src/runtime/sources/kubernetes.ts';
import { customResourceDefinitions } from '../../src/spec/crd-schemas.ts';
import type { ModelResource, ServerResource, StatusBase } from '../../src/spec/types.ts';
import {
  type AgentProcess,
  type ApplyObject,
  applyCrds,
  freePort,
  type KubeApiserver,
  kubeBinaries,
  type ManagedProcess,
  type MlserverInstance,
  podToken,
  pollUntil,
  runHealthScript,
  serverSideApply,
  startAgentProcess,
  startKubeApiserver,
  startMlserver,
  trainIrisModel,
  waitUntilReady,
} from './harness/index.ts';
import { startRuntimeProcess } from './harness/runtime-process.ts';
import { describeE2E } from './harness/toolchain.ts';

const NS = 'mlops';
const FLOWERS = [5.1, 3.5, 1.4, 0.2, 6.4, 3.2, 4.5, 1.5, 6.3, 3.3, 6.0, 2.5];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeE2E('control plane on a real kube-apiserver', ['go', 'python3'], () => {
  let dir: string;
  let kube: KubeApiserver;
  let custom: CustomObjectsApi;
  let kc: KubeConfig;
  let scheduler: ManagedProcess;
  /** The scheduler's log (startRuntimeProcess numbers it). */
  let schedulerLogFile: string;
  const agents: AgentProcess[] = [];
  const logs: string[] = [];
  let schedulerPort: number;

  const get = async <T>(plural: string, name: string) =>
    (await custom.getNamespacedCustomObject({
      group: 'mlops.seldon.io',
      version: 'v1alpha1',
      namespace: NS,
      plural,
      name,
    })) as T;
  const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000) =>
    pollUntil(what, fn, { timeoutMs, intervalMs: 200, logs, logLines: 12 });
  const model = (name: string, spec: Partial<ModelResource['spec']>): ApplyObject => ({
    apiVersion: 'mlops.seldon.io/v1alpha1',
    kind: 'Model',
    metadata: { name, namespace: NS },
    spec: {
      storageUri: `file://${join(dir, 'artifacts', 'iris')}`,
      requirements: ['sklearn'],
      memory: '20Mi',
      ...spec,
    },
  });
  const ready = (m: { status?: ModelResource['status'] }) =>
    m.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

  const startAgent = async (idx: number, mlserver: MlserverInstance) => {
    const agent = await startAgentProcess({
      name: `agent-${idx}`,
      dir,
      logs,
      scheduler: `127.0.0.1:${schedulerPort}`,
      mlserver,
      flags: {
        memory: '100Mi',
        'unload-grace-ms': 0,
        'lag-threshold': 2,
        'inactive-seconds': 3,
        'scaling-period-ms': 500,
      },
      // The pod name gives server and replica, as in a StatefulSet.
      env: {
        POD_NAME: `mlserver-${idx}`,
        POD_NAMESPACE: NS,
        // The scheduler admits agents by the pod their token is bound to.
        MLOPS_SCHEDULER_TOKEN_FILE: await podToken(kc, NS, `mlserver-${idx}`, dir),
      },
    });
    agents.push(agent);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlops-e2e-control-kube-'));
    const [k, , a, b] = await Promise.all([
      startKubeApiserver(),
      trainIrisModel(join(dir, 'artifacts'), 'iris'),
      startMlserver({ modelsDir: join(dir, 'models-0') }),
      startMlserver({ modelsDir: join(dir, 'models-1') }),
    ]);
    kube = k;
    kc = new KubeConfig();
    kc.loadFromFile(kube.kubeconfigPath);
    custom = kc.makeApiClient(CustomObjectsApi);
    await applyCrds(kube, customResourceDefinitions() as unknown as ApplyObject[]);
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
    await serverSideApply(kube, {
      apiVersion: 'mlops.seldon.io/v1alpha1',
      kind: 'Server',
      metadata: { name: 'mlserver', namespace: NS },
      spec: { serverConfig: 'mlserver', replicas: 2 },
    });
    await serverSideApply(kube, model('iris', { replicas: 1, minReplicas: 1, maxReplicas: 2 }));

    schedulerPort = await freePort();
    const healthPort = await freePort();
    scheduler = startRuntimeProcess(
      'scheduler',
      {
        kubernetes: true,
        namespace: NS,
        port: schedulerPort,
        'health-port': healthPort,
        'wait-for-servers-ms': 5000,
        'scaling-cooldown-ms': 1000,
        'statefulset-check-ms': 1000,
      },
      { dir, logs, env: { KUBECONFIG: kube.kubeconfigPath } },
    );
    schedulerLogFile = logs[logs.length - 1];
    await waitUntilReady(
      scheduler,
      'scheduler',
      async () => (await fetch(`http://127.0.0.1:${healthPort}/live`)).ok,
      30_000,
    );
    await Promise.all([startAgent(0, a), startAgent(1, b)]);
  }, 300_000);

  afterAll(async () => {
    await Promise.all(agents.map((x) => x.proc.stop(5000)));
    await scheduler?.stop(5000);
    await Promise.all(agents.map((x) => x.mlserver.stop()));
    await kube?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes Model and Server status (conditions and columns) on the apiserver', async () => {
    const m = await waitFor('iris Ready', async () => {
      const o = await get<ModelResource>('models', 'iris');
      return ready(o) && o;
    });
    expect(m.status).toMatchObject({ replicas: 1, availableReplicas: 1, selector: 'server=mlserver' });
    expect(m.status?.conditions?.find((c) => c.type === 'ModelReady')).toMatchObject({
      status: 'True',
      reason: 'ModelAvailable',
    });
    const s = await waitFor('server status', async () => {
      const o = await get<ServerResource>('servers', 'mlserver');
      return o.status?.loadedModels === 1 && o;
    });
    expect(s.status).toMatchObject({ replicas: 2, selector: 'seldon-server-name=mlserver' });
  }, 90_000);

  it('a bad artifact: the Model status says why', async () => {
    await serverSideApply(kube, model('broken', { storageUri: `file://${join(dir, 'nope')}` }));
    const m = await waitFor('broken failed', async () => {
      const o = await get<ModelResource>('models', 'broken');
      const c = o.status?.conditions?.find((x) => x.type === 'ModelReady');
      return c?.reason === 'ModelFailed' && c;
    });
    expect(m.status).toBe('False');
    expect(m.message).toContain(`cannot fetch file://${join(dir, 'nope')}: no such file or folder`);
  }, 60_000);

  it('writes Experiment status from its candidates', async () => {
    await serverSideApply(kube, {
      apiVersion: 'mlops.seldon.io/v1alpha1',
      kind: 'Experiment',
      metadata: { name: 'ab', namespace: NS },
      spec: {
        default: 'iris',
        candidates: [
          { name: 'iris', weight: 50 },
          { name: 'broken', weight: 50 },
        ],
      },
    });
    const c = await waitFor('experiment status', async () => {
      const o = await get<{ status?: ModelResource['status'] }>('experiments', 'ab');
      return o.status?.conditions?.find((x) => x.type === 'ExperimentReady');
    });
    expect(c).toMatchObject({ status: 'False', reason: 'ModelFailed' });
    expect(c.message).toMatch(/^model "broken" is ModelFailed \(.*no such file or folder.*\)$/);
  }, 60_000);

  const pipeline = (name: string, steps: { name: string; inputs?: string[] }[]): ApplyObject => ({
    apiVersion: 'mlops.seldon.io/v1alpha1',
    kind: 'Pipeline',
    metadata: { name, namespace: NS },
    spec: { steps, output: { steps: [steps[steps.length - 1].name] } },
  });
  const conditionsOf = async (plural: string, name: string) =>
    (await get<{ status?: StatusBase }>(plural, name)).status?.conditions ?? [];
  const kubectl = (...args: string[]) =>
    new Promise<{ code: number; out: string }>((resolve) => {
      execFile(
        kubeBinaries().kubectl,
        ['--kubeconfig', kube.kubeconfigPath, '-n', NS, ...args],
        { timeout: 90_000 },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr }),
      );
    });

  it('writes Pipeline status: ready, a missing model, recovering; kubectl wait follows it', async () => {
    await serverSideApply(kube, pipeline('ready-flow', [{ name: 'iris' }]));
    const waited = await kubectl('wait', '--for=condition=Ready', 'pipeline/ready-flow', '--timeout=30s');
    expect(waited, waited.out).toMatchObject({ code: 0 });
    expect((await conditionsOf('pipelines', 'ready-flow')).map((c) => `${c.type}=${c.status}`)).toEqual([
      'PipelineReady=True',
      'PipelineGwReady=True',
      'ModelsReady=True',
      'Ready=True',
    ]);

    await serverSideApply(
      kube,
      pipeline('waiting-flow', [{ name: 'iris' }, { name: 'later', inputs: ['iris.outputs'] }]),
    );
    const missing = await waitFor('waiting-flow not ready', async () =>
      (await conditionsOf('pipelines', 'waiting-flow')).find((c) => c.type === 'Ready'),
    );
    expect(missing).toMatchObject({
      status: 'False',
      reason: 'ModelNotFound',
      message: 'step "later": model "later" is not declared',
    });
    // The CRD's printer columns show it as Seldon's do.
    const table = await kubectl('get', 'pipelines', '-o', 'wide');
    expect(table.out).toMatch(
      /waiting-flow\s+False\s+False\s+True\s+True\s+step "later": model "later" is not declared/,
    );
    const timedOut = await kubectl('wait', '--for=condition=Ready', 'pipeline/waiting-flow', '--timeout=1s');
    expect(timedOut.code).not.toBe(0);

    // Recovering: kubectl waits while the missing model is declared and loads.
    const recovered = kubectl('wait', '--for=condition=Ready', 'pipeline/waiting-flow', '--timeout=60s');
    await serverSideApply(kube, model('later', {}));
    expect(await recovered).toMatchObject({ code: 0 });
    expect(await conditionsOf('pipelines', 'waiting-flow')).toContainEqual({
      type: 'ModelsReady',
      status: 'True',
      reason: 'ModelsAvailable',
    });
  }, 120_000);

  it('the Argo CD health checks, run in gopher-lua, read the status the scheduler wrote', async () => {
    // An artifact server that never answers keeps model "slow" loading (Progressing) on purpose.
    const held: http.ServerResponse[] = [];
    const artifacts = http.createServer((_req, res) => held.push(res));
    await new Promise<void>((r) => artifacts.listen(0, '127.0.0.1', r));
    const port = (artifacts.address() as AddressInfo).port;
    try {
      await serverSideApply(kube, model('slow', { storageUri: `http://127.0.0.1:${port}/slow.tar.gz` }));
      await serverSideApply(kube, pipeline('slow-flow', [{ name: 'slow' }]));
      await serverSideApply(kube, {
        apiVersion: 'mlops.seldon.io/v1alpha1',
        kind: 'Server',
        metadata: { name: 'no-pods', namespace: NS },
        spec: { serverConfig: 'mlserver', replicas: 1 },
      });
      await serverSideApply(kube, {
        apiVersion: 'mlops.seldon.io/v1alpha1',
        kind: 'Experiment',
        metadata: { name: 'ab-ok', namespace: NS },
        spec: {
          candidates: [
            { name: 'iris', weight: 1 },
            { name: 'later', weight: 1 },
          ],
        },
      });
      const serverConfig = (name: string, containers: object[]): ApplyObject => ({
        apiVersion: 'mlops.seldon.io/v1alpha1',
        kind: 'ServerConfig',
        metadata: { name, namespace: NS },
        spec: { podSpec: { containers } },
      });
      await serverSideApply(
        kube,
        serverConfig('mlserver', [{ name: 'mlserver', image: 'example.invalid/mlserver:1' }]),
      );
      await serverSideApply(kube, serverConfig('empty', []));

      const plural = (kind: string) => `${kind.toLowerCase()}s`;
      const healthOf = async (kind: keyof typeof HEALTH_SCRIPTS, name: string) =>
        runHealthScript(healthScript(HEALTH_SCRIPTS[kind]), await get(plural(kind), name));
      const expectations: [keyof typeof HEALTH_SCRIPTS, string, string, RegExp][] = [
        ['Model', 'iris', 'Healthy', /ModelAvailable/],
        ['Server', 'mlserver', 'Healthy', /2 of 2 replicas connected/],
        ['Pipeline', 'ready-flow', 'Healthy', /Ready/],
        ['Experiment', 'ab-ok', 'Healthy', /Ready/],
        ['ServerConfig', 'mlserver', 'Healthy', /pod template/i],
        ['Model', 'slow', 'Progressing', /.*/],
        ['Pipeline', 'slow-flow', 'Progressing', /step "slow": model "slow" is ModelProgressing/],
        ['Server', 'no-pods', 'Progressing', /0 of 1 replicas connected/],
        ['Model', 'broken', 'Degraded', /ModelReady: .*no such file or folder/],
        ['Experiment', 'ab', 'Degraded', /^ExperimentReady: model "broken" is ModelFailed/],
        ['ServerConfig', 'empty', 'Degraded', /no container/],
      ];
      const experimentReady = await kubectl(
        'wait',
        '--for=condition=Ready',
        'experiment/ab-ok',
        '--timeout=30s',
      );
      expect(experimentReady, experimentReady.out).toMatchObject({ code: 0 });
      for (const [kind, name, status, message] of expectations) {
        const health = await waitFor(`${kind} ${name} ${status}`, async () => {
          const h = await healthOf(kind, name);
          return h.status === status && h;
        });
        expect(health.message, `${kind} ${name}`).toMatch(message);
      }
      // A missing model is Degraded, and the pipeline recovers to Healthy once it is declared.
      await serverSideApply(kube, pipeline('late-flow', [{ name: 'later2' }]));
      const degraded = await waitFor('late-flow Degraded', async () => {
        const h = await healthOf('Pipeline', 'late-flow');
        return h.status === 'Degraded' && h;
      });
      expect(degraded.message).toBe('ModelsReady: step "later2": model "later2" is not declared');
      await serverSideApply(kube, model('later2', {}));
      await waitFor(
        'late-flow Healthy',
        async () => (await healthOf('Pipeline', 'late-flow')).status === 'Healthy',
      );
    } finally {
      // Let the held download fail so the agent carries on, and stop loading "slow".
      for (const res of held) res.writeHead(404).end();
      await new Promise((r) => artifacts.close(r));
      await custom.deleteNamespacedCustomObject({
        group: 'mlops.seldon.io',
        version: 'v1alpha1',
        namespace: NS,
        plural: 'models',
        name: 'slow',
      });
    }
  }, 120_000);

  it('load raises the replicas and idleness lowers them, within min/max, seen in the resource', async () => {
    const served = await waitFor('iris endpoint', async () => {
      for (const a of agents) {
        const r = await fetch(`http://127.0.0.1:${a.httpPort}/v2/models/iris/ready`);
        if (r.ok) return a;
      }
      return undefined;
    });
    let stop = false;
    const worker = async () => {
      while (!stop) {
        await fetch(`http://127.0.0.1:${served.httpPort}/v2/models/iris/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            inputs: [{ name: 'predict', shape: [3, 4], datatype: 'FP64', data: FLOWERS }],
          }),
        }).then(
          (r) => r.arrayBuffer(),
          () => undefined,
        );
      }
    };
    const load = Array.from({ length: 24 }, worker);
    try {
      const up = await waitFor('scaled up to 2', async () => {
        const o = await get<ModelResource>('models', 'iris');
        return o.spec.replicas === 2 && o.status?.availableReplicas === 2 && o;
      });
      expect(up.status?.replicas).toBe(2);
    } finally {
      stop = true;
      await Promise.all(load);
    }
    const down = await waitFor('scaled back down to 1', async () => {
      const o = await get<ModelResource>('models', 'iris');
      return o.spec.replicas === 1 && o.status?.availableReplicas === 1 && o;
    });
    expect(down.status?.replicas).toBe(1);
    // Never below minReplicas, never above maxReplicas.
    await sleep(4000);
    const still = await get<ModelResource>('models', 'iris');
    expect(still.spec.replicas).toBe(1);
  }, 120_000);

  it('scales a Server through its scale subresource and its StatefulSet', async () => {
    await serverSideApply(kube, {
      apiVersion: 'mlops.seldon.io/v1alpha1',
      kind: 'Server',
      metadata: { name: 'spare', namespace: NS },
      spec: { serverConfig: 'mlserver', replicas: 1 },
    });
    await serverSideApply(kube, {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'spare', namespace: NS },
      spec: {
        replicas: 1,
        serviceName: 'spare',
        selector: { matchLabels: { app: 'spare' } },
        template: {
          metadata: { labels: { app: 'spare' } },
          spec: { containers: [{ name: 'server', image: 'example.invalid/server:1' }] },
        },
      },
    });
    const source = new KubernetesSource(kc, pino({ level: 'silent' }), NS);
    await source.scale('Server', NS, 'spare', 3);
    expect((await get<ServerResource>('servers', 'spare')).spec.replicas).toBe(3);
    const sts = await kc.makeApiClient(AppsV1Api).readNamespacedStatefulSet({ name: 'spare', namespace: NS });
    expect(sts.spec?.replicas).toBe(3);
  }, 30_000);

  it('brings an autoscaled Server within its bounds: first seen, edited by hand, bounds changed', async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    // As synthesized for an autoscaled Server: no replicas, so Kubernetes makes it 1.
    await serverSideApply(kube, {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'bounded', namespace: NS },
      spec: {
        serviceName: 'bounded',
        selector: { matchLabels: { app: 'bounded' } },
        template: {
          metadata: { labels: { app: 'bounded' } },
          spec: { containers: [{ name: 'server', image: 'example.invalid/server:1' }] },
        },
      },
    });
    const stsReplicas = async () =>
      (await apps.readNamespacedStatefulSet({ name: 'bounded', namespace: NS })).spec?.replicas;
    expect(await stsReplicas()).toBe(1);
    await serverSideApply(kube, {
      apiVersion: 'mlops.seldon.io/v1alpha1',
      kind: 'Server',
      metadata: { name: 'bounded', namespace: NS },
      spec: { serverConfig: 'mlserver', minReplicas: 2, maxReplicas: 3 },
    });
    const within = (n: number) =>
      waitFor(`bounded at ${n} (Server and StatefulSet)`, async () => {
        const o = await get<ServerResource>('servers', 'bounded');
        return o.spec.replicas === n && (await stsReplicas()) === n;
      });
    await within(2);
    const edit = (spec: Record<string, number>) =>
      custom.patchNamespacedCustomObject(
        {
          group: 'mlops.seldon.io',
          version: 'v1alpha1',
          namespace: NS,
          plural: 'servers',
          name: 'bounded',
          body: { spec },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    await edit({ replicas: 7 });
    await within(3);
    await edit({ minReplicas: 4, maxReplicas: 5 });
    await within(4);
    const decisions = readFileSync(schedulerLogFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"scaling decision"') && l.includes('"name":"bounded"'))
      .map((l) => JSON.parse(l) as { from: number; to: number; reason: string });
    expect(decisions.map(({ from, to, reason }) => ({ from, to, reason }))).toEqual([
      { from: 1, to: 2, reason: 'replicas unset (1 pod) is below minReplicas 2' },
      { from: 7, to: 3, reason: 'replicas 7 is above maxReplicas 3' },
      { from: 3, to: 4, reason: 'replicas 3 is below minReplicas 4' },
    ]);
  }, 60_000);

  it('sets the StatefulSet of a Server within its bounds to its replicas, also one created after the Server', async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    // As synthesized for an autoscaled Server: no replicas, so Kubernetes makes it 1.
    const statefulSet = (name: string): ApplyObject => ({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name, namespace: NS },
      spec: {
        serviceName: name,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'server', image: 'example.invalid/server:1' }] },
        },
      },
    });
    const server = (
      name: string,
      bounds: Record<string, number> = { replicas: 2, minReplicas: 1 },
    ): ApplyObject => ({
      apiVersion: 'mlops.seldon.io/v1alpha1',
      kind: 'Server',
      metadata: { name, namespace: NS },
      spec: { serverConfig: 'mlserver', maxReplicas: 3, ...bounds },
    });
    const stsReplicas = async (name: string) =>
      (await apps.readNamespacedStatefulSet({ name, namespace: NS })).spec?.replicas;
    const schedulerLog = () => readFileSync(schedulerLogFile, 'utf8').split('\n');

    await serverSideApply(kube, statefulSet('declared'));
    expect(await stsReplicas('declared')).toBe(1);
    await serverSideApply(kube, server('declared'));
    await waitFor('StatefulSet declared at 2', async () => (await stsReplicas('declared')) === 2);
    // Applying the manifest again (as GitOps does) leaves the runtime's replicas alone.
    await serverSideApply(kube, statefulSet('declared'));
    expect(await stsReplicas('declared')).toBe(2);
    expect((await get<ServerResource>('servers', 'declared')).spec.replicas).toBe(2);
    const decisions = schedulerLog()
      .filter((l) => l.includes('"scaling decision"') && l.includes('"name":"declared"'))
      .map((l) => JSON.parse(l) as { from?: number; to: number; reason: string });
    expect(decisions.map(({ from, to, reason }) => ({ from, to, reason }))).toEqual([
      { from: undefined, to: 2, reason: 'StatefulSet follows Server replicas 2' },
    ]);
    // Deleted and applied again (as GitOps does after a change to an immutable field): Kubernetes
    // makes it 1 pod, and the scheduler sets it back to the Server's replicas.
    await apps.deleteNamespacedStatefulSet({ name: 'declared', namespace: NS });
    await waitFor('StatefulSet declared deleted', async () =>
      apps.readNamespacedStatefulSet({ name: 'declared', namespace: NS }).then(
        () => false,
        () => true,
      ),
    );
    await serverSideApply(kube, statefulSet('declared'));
    await waitFor(
      'recreated StatefulSet declared back at 2',
      async () => (await stsReplicas('declared')) === 2,
    );
    expect(
      schedulerLog().some((l) => l.includes('recreated or scaled by hand') && l.includes('"declared"')),
    ).toBe(true);

    // The Server first: its StatefulSet is set once it exists, whether the Server was within its
    // bounds (early) or raised to its minimum (raised).
    await serverSideApply(kube, server('early'));
    await serverSideApply(kube, server('raised', { minReplicas: 2 }));
    for (const name of ['early', 'raised']) {
      await waitFor(`the missing StatefulSet of ${name} noticed`, async () =>
        schedulerLog().some(
          (l) => l.includes('no StatefulSet for this Server yet') && l.includes(`"${name}"`),
        ),
      );
      await serverSideApply(kube, statefulSet(name));
    }
    await waitFor('StatefulSets early and raised at 2', async () => {
      return (await stsReplicas('early')) === 2 && (await stsReplicas('raised')) === 2;
    });
    expect((await get<ServerResource>('servers', 'raised')).spec.replicas).toBe(2);
  }, 60_000);
});
