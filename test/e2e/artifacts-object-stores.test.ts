// Model artifacts from real object stores: an S3 API server (s3rver), a GCS emulator
// (fake-gcs-server) and Azurite, each speaking its wire protocol on 127.0.0.1. Storage Secrets
// in Seldon's format live in a real kube-apiserver; the agent reads them with the token of the
// ServiceAccount synthesis gives it, under the synthesized Role (get on the named Secrets only).
// Scheduler and agent run as processes, loading into real MLServer.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { App } from 'cdk8s';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Environment } from '../../src/constructs/environment.ts';
import { Model } from '../../src/constructs/model.ts';
import { Runtime } from '../../src/constructs/runtime.ts';
import { Server } from '../../src/constructs/server.ts';
import { ServerConfig } from '../../src/constructs/server-config.ts';
import { synthesizeObjects } from '../../src/synth/synthesize.ts';
import {
  type AgentProcess,
  freePort,
  logTail,
  type ManagedProcess,
  type MlserverInstance,
  startAgentProcess,
  startMlserver,
  trainIrisModel,
  waitUntilReady,
} from './harness/index.ts';
import { type ApplyObject, type KubeApiserver, serverSideApply, startKubeApiserver } from './harness/kube.ts';
import { type ObjectStore, startAzurite, startGcs, startS3 } from './harness/object-stores.ts';
import { startRuntimeProcess } from './harness/runtime-process.ts';
import { describeE2E } from './harness/toolchain.ts';

const NS = 'models';
const FLOWERS = [5.1, 3.5, 1.4, 0.2, 6.4, 3.2, 4.5, 1.5, 6.3, 3.3, 6.0, 2.5];

interface ModelStatus {
  name: string;
  versions: { version: number; state: string; reason?: string }[];
}

/** The Models as the app declares them: synthesis derives the agents' Role from their Secrets. */
const MODELS: { name: string; uri: string; secret?: string }[] = [
  { name: 'iris-s3', uri: 's3://models/iris', secret: 'minio' },
  { name: 'iris-gs', uri: 'gs://models/iris-versions' },
  { name: 'iris-az', uri: 'az://models/iris', secret: 'azure-sas' },
  { name: 'denied', uri: 's3://models/iris', secret: 'minio-wrong-key' },
  { name: 'denied-az', uri: 'az://models/iris', secret: 'azure-wrong-key' },
  { name: 'missing', uri: 's3://models/no-such-model', secret: 'minio' },
  { name: 'malformed', uri: 's3://models/iris', secret: 'not-a-remote' },
];

function agentAccess(): ApplyObject[] {
  const app = new App({ outdir: 'unused' });
  const env = new Environment(app, 'e2e', { namespace: NS });
  new Runtime(env, 'runtime', { storageSecrets: ['gcs-default'] });
  new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER });
  for (const m of MODELS) {
    new Model(env, m.name, {
      storageUri: m.uri,
      requirements: ['sklearn'],
      ...(m.secret ? { secret: { name: m.secret } } : {}),
    });
  }
  return synthesizeObjects(app)
    .map((o) => o.manifest as unknown as ApplyObject)
    .filter(
      (o) => ['ServiceAccount', 'Role', 'RoleBinding'].includes(o.kind) && o.metadata.name === 'mlops-agent',
    );
}

describeE2E('model artifacts from S3, GCS and Azure Blob emulators', ['python3', 'go'], () => {
  let dir: string;
  let kube: KubeApiserver;
  let mlserver: MlserverInstance;
  let stores: ObjectStore[] = [];
  let scheduler: ManagedProcess;
  let agent: AgentProcess;
  let startAgent: () => Promise<AgentProcess>;
  const logs: string[] = [];
  let healthPort: number;

  const secretOf = (remote: ObjectStore['remote']) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    // Seldon's format: one key holding the rclone remote definition.
    stringData: { [remote.name]: stringify(remote) },
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlops-e2e-artifacts-'));
    const artifacts = join(dir, 'artifacts');
    mkdirSync(join(artifacts, 'versions'), { recursive: true });
    let s3: ObjectStore;
    let gcs: ObjectStore;
    let az: ObjectStore;
    [kube, mlserver, s3, gcs, az] = await Promise.all([
      startKubeApiserver(),
      startMlserver({ modelsDir: join(dir, 'models') }),
      startS3(),
      startGcs(),
      startAzurite(),
      trainIrisModel(artifacts, 'iris'),
      // The GCS copy has version folders: artifactVersion picks one (Seldon's layout).
      trainIrisModel(join(artifacts, 'versions'), '1'),
      trainIrisModel(join(artifacts, 'versions'), '2'),
    ]);
    stores = [s3, gcs, az];
    await s3.upload(join(artifacts, 'iris'), 'models', 'iris');
    await az.upload(join(artifacts, 'iris'), 'models', 'iris');
    await gcs.upload(join(artifacts, 'versions'), 'models', 'iris-versions');

    // Namespace, storage Secrets, and the agents' synthesized ServiceAccount, Role and binding.
    await serverSideApply(kube, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    const secrets: Record<string, object> = {
      minio: secretOf(s3.remote),
      'minio-wrong-key': secretOf(s3.deniedRemote as ObjectStore['remote']),
      'azure-sas': secretOf(az.remote),
      'azure-wrong-key': secretOf(az.deniedRemote as ObjectStore['remote']),
      'gcs-default': secretOf(gcs.remote),
      'not-a-remote': {
        apiVersion: 'v1',
        kind: 'Secret',
        stringData: { s3: 'type: s3\nparameters: [oops]\n' },
      },
      // Holds working credentials, but no Model of the app names it: the agent may not read it.
      'not-granted': secretOf(s3.remote),
    };
    for (const [name, s] of Object.entries(secrets))
      await serverSideApply(kube, { ...s, metadata: { name, namespace: NS } } as ApplyObject);
    for (const o of agentAccess())
      await serverSideApply(kube, { ...o, metadata: { ...o.metadata, namespace: NS } });
    const admin = new KubeConfig();
    admin.loadFromFile(kube.kubeconfigPath);
    const { status } = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
      name: 'mlops-agent',
      namespace: NS,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const kubeconfig = join(dir, 'agent-kubeconfig');
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'e2e',
            cluster: {
              server: kube.server,
              'certificate-authority-data': Buffer.from(kube.caCert).toString('base64'),
            },
          },
        ],
        users: [{ name: 'agent', user: { token: status?.token } }],
        contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: 'agent' } }],
        'current-context': 'e2e',
      }),
    );

    const manifests = join(dir, 'manifests');
    mkdirSync(manifests);
    const model = (name: string, uri: string, extra: Record<string, unknown>) => ({
      apiVersion: 'mlops.seldon.io/v1alpha1',
      kind: 'Model',
      metadata: { name, namespace: NS },
      spec: { storageUri: uri, requirements: ['sklearn'], memory: '20Mi', ...extra },
    });
    const docs = [
      {
        apiVersion: 'mlops.seldon.io/v1alpha1',
        kind: 'Server',
        metadata: { name: 'mlserver', namespace: NS },
        spec: { serverConfig: 'mlserver', replicas: 1 },
      },
      ...MODELS.map((m) =>
        model(m.name, m.uri, {
          ...(m.secret ? { secretName: m.secret } : {}),
          ...(m.name === 'iris-gs' ? { artifactVersion: 1 } : {}),
        }),
      ),
      model('forbidden', 's3://models/iris', { secretName: 'not-granted' }),
    ];
    writeFileSync(join(manifests, 'app.yaml'), docs.map((d) => stringify(d)).join('---\n'));

    const schedulerPort = await freePort();
    healthPort = await freePort();
    scheduler = startRuntimeProcess(
      'scheduler',
      { manifests, port: schedulerPort, 'health-port': healthPort },
      { dir, logs },
    );
    await waitUntilReady(
      scheduler,
      'scheduler',
      async () => (await fetch(`http://127.0.0.1:${healthPort}/live`)).ok,
      30_000,
    );
    startAgent = () =>
      startAgentProcess({
        name: 'agent',
        dir,
        logs,
        scheduler: `127.0.0.1:${schedulerPort}`,
        mlserver,
        flags: {
          server: 'mlserver',
          replica: 0,
          memory: '400Mi',
          'storage-secrets': ['gcs-default'],
          'min-residency-ms': 0,
          'unload-grace-ms': 0,
          'scaling-period-ms': 0,
        },
        env: { KUBECONFIG: kubeconfig, POD_NAMESPACE: NS },
      });
    agent = await startAgent();
  }, 300_000);

  afterAll(async () => {
    await agent?.proc.stop(5000);
    await scheduler?.stop(5000);
    await mlserver?.stop();
    for (const s of stores) await s.stop();
    await kube?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const statusOf = async (name: string): Promise<ModelStatus | undefined> => {
    const body = (await (await fetch(`http://127.0.0.1:${healthPort}/status`)).json()) as {
      models: ModelStatus[];
    };
    return body.models.find((m) => m.name === name);
  };
  /** Waits until the model's latest version is Available or Failed; returns that version. */
  const settled = async (name: string) => {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const v = (await statusOf(name).catch(() => undefined))?.versions.at(-1);
      if (v && (v.state === 'ModelAvailable' || v.state === 'ModelFailed')) return v;
      if (Date.now() > deadline) {
        throw new Error(
          `${name} did not settle: ${JSON.stringify(v)}\n${logs.map((l) => logTail(l, 20)).join('\n')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const infer = async (name: string) => {
    const res = await fetch(`http://127.0.0.1:${agent.httpPort}/v2/models/${name}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'seldon-model': name },
      body: JSON.stringify({ inputs: [{ name: 'predict', shape: [3, 4], datatype: 'FP64', data: FLOWERS }] }),
    });
    return { status: res.status, body: (await res.json()) as { outputs?: { data: number[] }[] } };
  };

  it('loads a scikit-learn model from each store into MLServer and serves it', async () => {
    for (const name of ['iris-s3', 'iris-gs', 'iris-az']) {
      const v = await settled(name);
      expect(v.state, `${name}: ${v.reason}`).toBe('ModelAvailable');
      const { status, body } = await infer(name);
      expect(status, name).toBe(200);
      expect(body.outputs?.[0].data).toEqual([0, 1, 2]);
    }
  }, 120_000);

  it("refuses what cannot work, naming the model, the URI and the fix in the Model's status", async () => {
    const expectations: Record<string, string[]> = {
      denied: [
        'Model denied: cannot fetch s3://models/iris: access denied with Secret "minio-wrong-key"',
        'InvalidAccessKeyId',
        'Fix:',
      ],
      'denied-az': [
        'Model denied-az: cannot fetch az://models/iris: access denied with Secret "azure-wrong-key"',
        'AuthorizationFailure',
        'Fix:',
      ],
      missing: [
        'Model missing: cannot fetch s3://models/no-such-model: no such object',
        'Fix: check spec.storageUri',
      ],
      malformed: [
        'Model malformed: cannot fetch s3://models/iris: the storage credentials of Secret "not-a-remote"',
        'key "s3" has no "name" string',
        'Fix: write the Secret as Seldon does',
      ],
      forbidden: [
        'Model forbidden: cannot fetch s3://models/iris: the agent may not read Secret "not-granted"',
        'Fix:',
      ],
    };
    for (const [name, parts] of Object.entries(expectations)) {
      const v = await settled(name);
      expect(v.state, name).toBe('ModelFailed');
      for (const part of parts) expect(v.reason, name).toContain(part);
      // No credential reaches the status.
      expect(v.reason).not.toMatch(/S3RVER|sig=|NOT-A-KEY/);
    }
    for (const log of logs) expect(readFileSync(log, 'utf8')).not.toMatch(/S3RVER|NOT-A-KEY|sig=/);
    // The agent is still healthy and still serves.
    expect((await fetch(`http://127.0.0.1:${agent.adminPort}/ready`)).status).toBe(200);
    expect((await infer('iris-s3')).status).toBe(200);
  }, 120_000);

  it('reuses finished downloads after the agent restarts', async () => {
    await agent.proc.stop(5000);
    agent = await startAgent();
    for (const name of ['iris-s3', 'iris-gs', 'iris-az']) {
      const deadline = Date.now() + 60_000;
      while ((await infer(name)).status !== 200) {
        if (Date.now() > deadline)
          throw new Error(`${name} not served after the restart\n${logTail(logs.at(-1) ?? '', 30)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    // The restarted agent loaded all three from its cache: no transfer at all.
    expect(readFileSync(logs.at(-1) ?? '', 'utf8')).not.toContain('artifact downloaded');
    expect(readFileSync(logs[1], 'utf8')).toContain('artifact downloaded');
  }, 120_000);
});
