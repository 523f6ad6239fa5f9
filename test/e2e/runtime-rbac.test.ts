// End to end against a real kube-apiserver (RBAC on): the scheduler's (and the dataflow's)
// synthesized ServiceAccount, Role and RoleBinding are applied for real, a token is issued for that
// ServiceAccount, and the component's own Kubernetes source runs with it: every call it makes is
// allowed, and what it does not need is forbidden. The same server also accepts (strict server-side dry-run) what
// every Runtime and Server option synthesizes.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { App } from 'cdk8s';
import pino from 'pino';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { Environment } from '../../src/constructs/environment.ts';
import { Experiment } from '../../src/constructs/experiment.ts';
import { Model } from '../../src/constructs/model.ts';
import { Pipeline } from '../../src/constructs/pipeline.ts';
import { Runtime } from '../../src/constructs/runtime.ts';
import { Server } from '../../src/constructs/server.ts';
import { ServerConfig } from '../../src/constructs/server-config.ts';
import { LeaderElector } from '../../src/runtime/scheduler/leader-election.ts';
import { kubernetesLeaseApi } from '../../src/runtime/scheduler/lease-api.ts';
import {
  kubernetesTokenReviewer,
  TokenReviewAuthenticator,
} from '../../src/runtime/scheduler/token-review.ts';
import { KubernetesSource } from '../../src/runtime/sources/kubernetes.ts';
import type { DesiredStateHandler } from '../../src/runtime/sources/types.ts';
import { SCHEDULER_TOKEN_AUDIENCE } from '../../src/spec/control-auth.ts';
import type { MlopsResource } from '../../src/spec/types.ts';
import { synthesizeObjects } from '../../src/synth/synthesize.ts';
import { everyOptionApp } from '../constructs/runtime-every-option.ts';
import {
  type ApplyObject,
  applyCrds,
  type KubeApiserver,
  serverSideApply,
  startKubeApiserver,
} from './harness/kube.ts';
import { podToken } from './harness/pod-token.ts';
import { describeE2E } from './harness/toolchain.ts';

const NS = 'rbac';

function appObjects(): ApplyObject[] {
  const app = new App({ outdir: 'unused' });
  const env = new Environment(app, 'rbac', { namespace: NS });
  new Runtime(env, 'runtime', { kafka: { bootstrapServers: ['kafka:9092'] } });
  new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER, minReplicas: 1, maxReplicas: 3 });
  const iris = new Model(env, 'iris', {
    storageUri: 'gs://m/iris',
    requirements: ['sklearn'],
    memory: '1Mi',
  });
  const iris2 = new Model(env, 'iris2', {
    storageUri: 'gs://m/iris2',
    requirements: ['sklearn'],
    memory: '1Mi',
  });
  new Pipeline(env, 'flow', {}).addStep(iris);
  new Experiment(env, 'ab', {
    candidates: [
      { target: iris, weight: 50 },
      { target: iris2, weight: 50 },
    ],
  });
  return synthesizeObjects(app).map((o) => o.manifest as unknown as ApplyObject);
}

describeE2E('scheduler RBAC on a real kube-apiserver', ['go'], () => {
  let kube: KubeApiserver;
  let admin: KubeConfig;
  let scheduler: KubeConfig;
  let dataflow: KubeConfig;
  const objects = appObjects();

  beforeAll(async () => {
    kube = await startKubeApiserver();
    admin = new KubeConfig();
    admin.loadFromFile(kube.kubeconfigPath);
    const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition');
    await applyCrds(kube, crds);
    await serverSideApply(kube, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    // Everything but the Strimzi-free CRDs is applied for real (no controllers run: nothing starts).
    for (const o of objects.filter((x) => x.kind !== 'CustomResourceDefinition'))
      await serverSideApply(kube, o);
    scheduler = await accountConfig('mlops-scheduler');
    dataflow = await accountConfig('mlops-dataflow');
  }, 120_000);

  /** Credentials of a synthesized ServiceAccount: a token issued for it. */
  async function accountConfig(name: string): Promise<KubeConfig> {
    const token = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
      name,
      namespace: NS,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'e2e', server: kube.server, caData: Buffer.from(kube.caCert).toString('base64') }],
      users: [{ name, token: token.status?.token }],
      contexts: [{ name: 'e2e', cluster: 'e2e', user: name }],
      currentContext: 'e2e',
    });
    return kc;
  }
  afterAll(async () => {
    await kube?.stop();
  });

  it('watches the four kinds, writes status and scales with the synthesized Role', async () => {
    const source = new KubernetesSource(scheduler, pino({ level: 'silent' }), NS);
    const seen = new Set<string>();
    let synced = false;
    const handler: DesiredStateHandler = {
      upsert: (o: MlopsResource) => void seen.add(`${o.kind}/${o.metadata.name}`),
      remove: () => undefined,
      synced: () => {
        synced = true;
      },
    };
    await source.start(handler);
    try {
      expect(synced).toBe(true);
      expect([...seen].sort()).toEqual([
        'Experiment/ab',
        'Model/iris',
        'Model/iris2',
        'Pipeline/flow',
        'Server/mlserver',
      ]);
      const condition = {
        type: 'Ready',
        status: 'False' as const,
        reason: 'ScheduleFailed',
        message: 'no servers',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      };
      await source.writeModelStatus(NS, 'iris', {
        conditions: [condition],
        replicas: 1,
        selector: 'server=mlserver',
      });
      await source.writeServerStatus(NS, 'mlserver', {
        conditions: [condition],
        replicas: 0,
        loadedModels: 0,
        selector: 'seldon-server-name=mlserver',
      });
      await source.writeExperimentStatus(NS, 'ab', { conditions: [condition] });
      await source.writePipelineStatus(NS, 'flow', { conditions: [condition] });
      // The Server's scale subresource and its StatefulSet's.
      await source.scale('Server', NS, 'mlserver', 2);
      await source.scale('Model', NS, 'iris', 2);
      // Read back through the scale subresource, as the drift check does.
      expect(await source.serverPods(NS, 'mlserver')).toBe(2);
    } finally {
      await source.stop();
    }
    const custom = admin.makeApiClient(CustomObjectsApi);
    const ref = { group: 'mlops.seldon.io', version: 'v1alpha1', namespace: NS };
    const model = (await custom.getNamespacedCustomObject({ ...ref, plural: 'models', name: 'iris' })) as {
      spec: { replicas: number };
      status: { conditions: { reason: string }[] };
    };
    expect(model.status.conditions[0].reason).toBe('ScheduleFailed');
    expect(model.spec.replicas).toBe(2);
    const { AppsV1Api } = await import('@kubernetes/client-node');
    const sts = await admin
      .makeApiClient(AppsV1Api)
      .readNamespacedStatefulSet({ name: 'mlserver', namespace: NS });
    expect(sts.spec?.replicas).toBe(2);
  }, 60_000);

  it('leads through its own Lease with the synthesized Role; other Leases are out of reach', async () => {
    const log = pino({ level: 'silent' });
    const elector = new LeaderElector({
      api: kubernetesLeaseApi(scheduler, NS, 'mlops-scheduler'),
      identity: 'mlops-scheduler-0',
      log,
      leaseSeconds: 5,
      renewDeadlineMs: 3500,
      retryPeriodMs: 200,
    });
    const lost = vi.fn();
    elector.onLost(lost);
    elector.start();
    try {
      await elector.whenLeading();
      const lease = kubernetesLeaseApi(admin, NS, 'mlops-scheduler');
      const first = (await lease.get())?.renewTime?.getTime() ?? 0;
      await vi.waitFor(async () => expect((await lease.get())?.renewTime?.getTime()).toBeGreaterThan(first), {
        timeout: 3000,
      });
      expect(lost).not.toHaveBeenCalled();
    } finally {
      await elector.stop();
    }
    // Handed over (an update) on stop.
    expect((await kubernetesLeaseApi(admin, NS, 'mlops-scheduler').get())?.holder).toBe('');
    const other = kubernetesLeaseApi(scheduler, NS, 'kube-controller-manager');
    await expect(other.get()).rejects.toEqual(expect.objectContaining({ code: 403 }));
  }, 30_000);

  it('reviews the tokens agents present, through the synthesized ClusterRoleBinding', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-e2e-rbac-'));
    try {
      const file = await podToken(admin, NS, 'mlserver-0', dir);
      const auth = new TokenReviewAuthenticator(await kubernetesTokenReviewer(scheduler), {
        audience: SCHEDULER_TOKEN_AUDIENCE,
      });
      expect(await auth.authenticate(readFileSync(file, 'utf8'))).toEqual({
        kind: 'pod',
        namespace: NS,
        pod: 'mlserver-0',
        serviceAccount: 'workload',
      });
      await expect(auth.authenticate('not-a-token')).rejects.toThrow(/^token refused/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('grants nothing else: no reads of secrets, no writes to specs, nothing in other namespaces', async () => {
    const custom = scheduler.makeApiClient(CustomObjectsApi);
    const ref = { group: 'mlops.seldon.io', version: 'v1alpha1', namespace: NS };
    const forbidden = expect.objectContaining({ code: 403 });
    await expect(scheduler.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: NS })).rejects.toEqual(
      forbidden,
    );
    await expect(
      custom.deleteNamespacedCustomObject({ ...ref, plural: 'models', name: 'iris' }),
    ).rejects.toEqual(forbidden);
    await expect(
      custom.patchNamespacedCustomObject({
        ...ref,
        plural: 'models',
        name: 'iris',
        body: [{ op: 'replace', path: '/spec/storageUri', value: 'x' }],
      }),
    ).rejects.toEqual(forbidden);
    await expect(
      custom.listNamespacedCustomObject({ ...ref, namespace: 'default', plural: 'models' }),
    ).rejects.toEqual(forbidden);
    await expect(custom.listNamespacedCustomObject({ ...ref, plural: 'serverconfigs' })).rejects.toEqual(
      forbidden,
    );
  });

  it('the dataflow watches its Pipelines with its Role, and can do nothing else', async () => {
    const source = new KubernetesSource(dataflow, pino({ level: 'silent' }), NS, ['Pipeline']);
    const seen: string[] = [];
    await source.start({
      upsert: (o: MlopsResource) => void seen.push(`${o.kind}/${o.metadata.name}`),
      remove: () => undefined,
      synced: () => undefined,
    });
    try {
      expect(seen).toEqual(['Pipeline/flow']);
      // Watched, not only listed: a Pipeline applied now arrives.
      await serverSideApply(kube, {
        apiVersion: 'mlops.seldon.io/v1alpha1',
        kind: 'Pipeline',
        metadata: { name: 'late', namespace: NS },
        spec: { steps: [{ name: 'iris' }], output: { steps: ['iris'] } },
      });
      await vi.waitFor(() => expect(seen).toContain('Pipeline/late'), { timeout: 10_000 });
    } finally {
      await source.stop();
    }
    const custom = dataflow.makeApiClient(CustomObjectsApi);
    const ref = { group: 'mlops.seldon.io', version: 'v1alpha1', namespace: NS };
    const forbidden = expect.objectContaining({ code: 403 });
    await expect(custom.listNamespacedCustomObject({ ...ref, plural: 'models' })).rejects.toEqual(forbidden);
    await expect(dataflow.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: NS })).rejects.toEqual(
      forbidden,
    );
    await expect(source.writePipelineStatus(NS, 'flow', { conditions: [] })).rejects.toEqual(forbidden);
    await expect(
      custom.deleteNamespacedCustomObject({ ...ref, plural: 'pipelines', name: 'flow' }),
    ).rejects.toEqual(forbidden);
    await expect(
      custom.listNamespacedCustomObject({ ...ref, namespace: 'default', plural: 'pipelines' }),
    ).rejects.toEqual(forbidden);
  }, 30_000);

  it('accepts every object of every Runtime and Server option (strict dry-run)', async () => {
    const all = synthesizeObjects(everyOptionApp()).map((o) => o.manifest as unknown as ApplyObject);
    // Strimzi's KafkaTopic needs Strimzi's CRD, which this server does not have.
    const objects = all.filter((o) => o.kind !== 'CustomResourceDefinition' && o.kind !== 'KafkaTopic');
    expect(all.some((o) => o.kind === 'KafkaTopic')).toBe(true);
    await serverSideApply(kube, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'lint-all' } });
    const failures: string[] = [];
    for (const o of objects) {
      await serverSideApply(kube, o, { dryRun: true }).catch((err: Error) =>
        failures.push(`${o.kind}/${o.metadata.name}: ${err.message}`),
      );
    }
    expect(failures).toEqual([]);
    expect(objects.length).toBeGreaterThan(25);
  }, 60_000);
});
