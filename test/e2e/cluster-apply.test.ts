// Every example app applied the way users apply it, onto a real control plane: kube-apiserver
// (default admission plugins, PodSecurity among them), kube-controller-manager, kube-scheduler,
// and kwok running fake nodes. Pods are created, admitted, scheduled and reported ready; a
// second apply changes nothing; pruning removes exactly what the app no longer declares.
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { mlops } from '../review/cli.ts';
import { distDir, type KubeCluster, repoRoot, startKubeCluster } from './harness/index.ts';
import { describeE2E } from './harness/toolchain.ts';

interface Ref {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}
type Live = Ref & {
  metadata: { name: string; namespace?: string; generation?: number; uid: string };
  spec?: Record<string, unknown> & { replicas?: number };
  status?: Record<string, unknown> & { conditions?: { type: string; status: string; message?: string }[] };
};

const GPU_TAINT = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' as const };
const NODES = [
  { name: 'kwok-a' },
  { name: 'kwok-b' },
  { name: 'kwok-c' },
  { name: 'kwok-gpu', taints: [GPU_TAINT], resources: { 'nvidia.com/gpu': '1' } },
];
/**
 * An app with a GPU Server that tolerates the GPU nodes' taint, a CPU Server, a GPU Server that
 * tolerates nothing, and the given Models on the CPU server (resnet goes on the GPU one).
 */
function gpuApp(models: string[], modelMemory = '100Mi'): string {
  const lines = models.map((m) =>
    m === 'resnet'
      ? "new Model(env, 'resnet', { storageUri: 'gs://m/resnet', requirements: ['onnx'], memory: '1Gi', server: triton });"
      : `new Model(env, '${m}', { storageUri: 'gs://m/${m}', requirements: ['sklearn'], memory: '${modelMemory}', server: mlserver });`,
  );
  return `import { Environment, MlopsApp, Model, Runtime, Server, ServerConfig } from 'cdk8s-mlops';
const app = new MlopsApp();
const env = new Environment(app, 'gpu', { namespace: 'ml-gpu' });
new Runtime(env, 'runtime');
const gpuTaint = { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' } as const;
const triton = new Server(env, 'triton', { serverConfig: ServerConfig.TRITON, replicas: 1, memory: '4Gi', gpu: 1, tolerations: [gpuTaint] });
const mlserver = new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER, replicas: 1, memory: '2Gi' });
new Server(env, 'untolerated', { serverConfig: ServerConfig.MLSERVER, replicas: 1, gpu: 1 });
${lines.join('\n')}
app.synth();
`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function manifestsIn(dir: string): Ref[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as Ref));
}

const key = (o: Ref) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;

describeE2E('example apps on a real control plane with kwok nodes', ['go'], () => {
  let cluster: KubeCluster;
  let work: string;

  async function kubectl(...args: string[]): Promise<string> {
    const r = await cluster.kubectl(args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  }
  async function getJson<T>(...args: string[]): Promise<T> {
    return JSON.parse(await kubectl('get', ...args, '-o', 'json')) as T;
  }
  /** The live objects of an output folder. */
  const liveObjects = async (dir: string) => (await getJson<{ items: Live[] }>('-f', dir)).items;

  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const value = await probe();
        if (value !== undefined) return value;
      } catch (err) {
        last = err;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
      await sleep(500);
    }
  }

  /** The README's recipe: CRDs first (and wait for them), then the whole folder. */
  async function applyAsReadme(dir: string, mode: string[]): Promise<string> {
    const crds = join(dir, '00-crds.yaml');
    await kubectl('apply', ...mode, '-f', crds);
    await kubectl('wait', '--for', 'condition=established', '--timeout=60s', '-f', crds);
    const applied = await cluster.kubectl(['apply', ...mode, '-f', dir]);
    expect(applied.stderr, `kubectl apply -f ${dir}`).toBe('');
    expect(applied.code).toBe(0);
    return applied.stdout;
  }

  /** Every workload of the folder has all its pods created, scheduled on kwok nodes and ready. */
  async function assertBroughtUp(dir: string): Promise<void> {
    const objects = manifestsIn(dir);
    const namespaces = [
      ...new Set(objects.flatMap((o) => (o.metadata.namespace ? [o.metadata.namespace] : []))),
    ];
    const workloads = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
    // HPAs first: a target below its minimum is scaled up to it before the rollout is judged.
    for (const hpa of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
      const live = await until(`HPA ${key(hpa)} to find its target`, async () => {
        const h = await getJson<Live>('hpa', '-n', hpa.metadata.namespace as string, hpa.metadata.name);
        return h.status?.conditions?.find((c) => c.type === 'AbleToScale' && c.status === 'True')
          ? h
          : undefined;
      });
      const target = live.spec?.scaleTargetRef as { kind: string; name: string };
      expect(workloads.map((w) => `${w.kind}/${w.metadata.name}`)).toContain(`${target.kind}/${target.name}`);
    }
    for (const w of workloads) {
      await until(`${key(w)} to report all its pods ready`, async () => {
        const live = await getJson<Live>(w.kind, '-n', w.metadata.namespace as string, w.metadata.name);
        const want = live.spec?.replicas ?? 1;
        const s = live.status as {
          observedGeneration?: number;
          readyReplicas?: number;
          updatedReplicas?: number;
        };
        return s.observedGeneration === live.metadata.generation &&
          s.readyReplicas === want &&
          s.updatedReplicas === want
          ? live
          : undefined;
      });
    }
    const nodeNames = NODES.map((n) => n.name);
    for (const ns of namespaces) {
      const pods = (await getJson<{ items: Live[] }>('pods', '-n', ns)).items;
      for (const pod of pods) {
        expect(nodeNames, `${key(pod)} scheduled on a kwok node`).toContain(pod.spec?.nodeName);
        expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status, `${key(pod)} ready`).toBe(
          'True',
        );
      }
      const refused = (
        await getJson<{ items: { reason: string; message: string }[] }>('events', '-n', ns)
      ).items
        // A pod PodSecurity refuses is a FailedCreate of its ReplicaSet or StatefulSet. (Others can
        // be transient: a Deployment's file sorts before its ServiceAccount's, and the controller
        // retries once the account exists.)
        .filter((e) => e.reason === 'FailedCreate' && /PodSecurity/.test(e.message))
        .map((e) => e.message);
      expect(refused, `pods refused in ${ns}`).toEqual([]);
    }
    for (const svc of objects.filter((o) => o.kind === 'Service')) {
      await until(`endpoints of ${key(svc)}`, async () => {
        const slices = await getJson<{ items: { endpoints?: { conditions?: { ready?: boolean } }[] }[] }>(
          'endpointslices',
          '-n',
          svc.metadata.namespace as string,
          '-l',
          `kubernetes.io/service-name=${svc.metadata.name}`,
        );
        return slices.items.some((s) => s.endpoints?.some((e) => e.conditions?.ready)) ? true : undefined;
      });
    }
    for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
      await until(`${key(pdb)} to count its pods`, async () => {
        const live = await getJson<Live>('pdb', '-n', pdb.metadata.namespace as string, pdb.metadata.name);
        const s = live.status as { expectedPods?: number; observedGeneration?: number };
        return (s.expectedPods ?? 0) > 0 && s.observedGeneration === live.metadata.generation
          ? true
          : undefined;
      });
    }
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    const live = await liveObjects(dir);
    expect(live.filter((o) => o.kind === 'NetworkPolicy').map(key)).toEqual(policies.map(key));
  }

  /** A second server-side apply moves no generation; `kubectl diff` and `mlops diff --live` are empty. */
  async function assertStable(dir: string, mode: string[]): Promise<void> {
    const generations = (items: Live[]) =>
      Object.fromEntries(items.map((o) => [key(o), o.metadata.generation]));
    const before = generations(await liveObjects(dir));
    await kubectl('apply', ...mode, '-f', dir);
    expect(generations(await liveObjects(dir))).toEqual(before);
    const diff = await cluster.kubectl([
      'diff',
      ...(mode.includes('--server-side') ? ['--server-side'] : []),
      '-f',
      dir,
    ]);
    expect(diff.stdout).toBe('');
    expect(diff.code).toBe(0);
    const live = mlops(['diff', '--live', dir, '--kubeconfig', cluster.kubeconfigPath]);
    expect(live.stdout).toMatch(/^0 added, 0 changed, 0 replaced, 0 removed/);
    expect(live.code).toBe(0);
  }

  beforeAll(async () => {
    cluster = await startKubeCluster(NODES);
    work = mkdtempSync(join(tmpdir(), 'mlops-e2e-apply-'));
    // Volumes for the model caches that servers claim (the cluster has no storage provisioner).
    const volumes = Array.from({ length: 6 }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: `cache-${i}` },
      spec: {
        capacity: { storage: '100Gi' },
        accessModes: ['ReadWriteOnce'],
        hostPath: { path: join(work, `volume-${i}`) },
      },
    }));
    const created = await cluster.kubectl(['create', '-f', '-'], {
      input: volumes.map((v) => JSON.stringify(v)).join('\n'),
    });
    expect(created.code, created.stderr).toBe(0);
  }, 240_000);

  afterAll(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the README recipe with client-side kubectl apply brings the quickstart up on an empty cluster', async () => {
    const dir = join(distDir(), 'quickstart');
    await applyAsReadme(dir, []);
    await assertBroughtUp(dir);
    await assertStable(dir, []);
  }, 240_000);

  for (const app of ['quickstart', 'pipelines', 'fleet', 'environments']) {
    it(`dist/${app}: applied server-side, every pod admitted, scheduled and ready, stable on re-apply`, async () => {
      const dir = join(distDir(), app);
      await applyAsReadme(dir, ['--server-side']);
      await assertBroughtUp(dir);
      await assertStable(dir, ['--server-side']);
    }, 240_000);
  }

  describe('an app made with mlops init', () => {
    let project: string;
    const writeApp = (name: string, source: string) => {
      mkdirSync(join(project, 'extra'), { recursive: true });
      const file = join(project, 'extra', `${name}.ts`);
      writeFileSync(file, source);
      return file;
    };
    const synthApp = (name: string, source: string) => {
      const out = join(project, 'out', name);
      const r = mlops(['synth', '--app', writeApp(name, source), '--out', out], project);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      return out;
    };

    beforeAll(() => {
      project = join(work, 'serving');
      const init = mlops(['init', project, '--env', 'qa,staging']);
      expect(init.code, init.stderr).toBe(0);
      // The package and its peers resolve to this checkout, as an install would provide them.
      const modules = join(project, 'node_modules');
      mkdirSync(modules);
      symlinkSync(repoRoot, join(modules, 'cdk8s-mlops'));
      for (const dep of ['cdk8s', 'cdk8s-plus-28', 'constructs'])
        symlinkSync(join(repoRoot, 'node_modules', dep), join(modules, dep));
      const synth = mlops(['synth'], project);
      expect(synth.code, synth.stderr).toBe(0);
    }, 120_000);

    it('a GPU Server lands only on the tainted accelerator node; one that tolerates no taint says why it cannot fit', async () => {
      const dir = synthApp('gpu', gpuApp(['iris', 'resnet']));
      await applyAsReadme(dir, ['--server-side']);
      const pods = async (server: string) =>
        (await getJson<{ items: Live[] }>('pods', '-n', 'ml-gpu', '-l', `seldon-server-name=${server}`))
          .items;
      await until('the triton pod to be ready', async () => {
        const [pod] = await pods('triton');
        return pod?.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True')
          ? pod
          : undefined;
      });
      expect((await pods('triton')).map((p) => p.spec?.nodeName)).toEqual(['kwok-gpu']);
      expect((await pods('mlserver')).map((p) => p.spec?.nodeName)).not.toContain('kwok-gpu');
      // Asking for a GPU without tolerating the GPU nodes' taint fits nowhere, and the scheduler says so.
      const why = await until('FailedScheduling of the untolerating server', async () => {
        const events = await getJson<{
          items: { reason: string; message: string; involvedObject: { name: string } }[];
        }>('events', '-n', 'ml-gpu', '--field-selector', 'reason=FailedScheduling');
        return events.items.find((e) => e.involvedObject.name.startsWith('untolerated-'))?.message;
      });
      expect(why).toMatch(/untolerated taint.*nvidia\.com\/gpu/);
      expect(why).toMatch(/Insufficient nvidia\.com\/gpu/);
      // Where synthesis can know a replica cannot hold what is asked of it, it refuses first.
      const tooBig = mlops(
        ['synth', '--app', writeApp('too-big', gpuApp(['iris'], '64Gi')), '--out', join(work, 'too-big')],
        project,
      );
      expect(tooBig.code).toBe(1);
      expect(tooBig.stderr + tooBig.stdout).toMatch(
        /gpu\/iris\n\s+field:\s+memory[\s\S]*is more than server "mlserver" can hold/,
      );
    }, 240_000);

    it('deleting a Model from the app and applying with pruning removes exactly that Model', async () => {
      const dir = join(project, 'out', 'gpu');
      const before = await liveObjects(dir);
      // An ApplySet (kubectl's pruning for server-side apply) records what each apply owns; its
      // parent lives in the app's namespace, which the first apply already created.
      const applySet = async () => {
        const r = await cluster.kubectl(
          ['apply', '--server-side', '--applyset=configmaps/gpu', '-n', 'ml-gpu', '--prune', '-f', dir],
          { env: { KUBECTL_APPLYSET: 'true' } },
        );
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        return r.stdout;
      };
      synthApp('gpu', gpuApp(['iris', 'resnet']));
      expect(await applySet()).not.toMatch(/pruned/);
      synthApp('gpu', gpuApp(['resnet']));
      expect(manifestsIn(dir).map(key)).toEqual(before.map(key).filter((k) => k !== 'Model ml-gpu/iris'));
      const out = await applySet();
      expect(out.split('\n').filter((l) => l.endsWith(' pruned'))).toEqual([
        'model.mlops.seldon.io/iris pruned',
      ]);
      await until('the Model to be gone', async () => {
        const r = await cluster.kubectl(['get', 'model', '-n', 'ml-gpu', 'iris']);
        return r.code !== 0 && /NotFound/.test(r.stderr) ? true : undefined;
      });
      const after = await liveObjects(dir);
      const uids = (items: Live[]) => Object.fromEntries(items.map((o) => [key(o), o.metadata.uid]));
      const { 'Model ml-gpu/iris': _gone, ...kept } = uids(before);
      expect(uids(after)).toEqual(kept);
    }, 240_000);

    for (const env of ['qa', 'staging']) {
      it(`its ${env} output applies server-side and is stable on re-apply`, async () => {
        const dir = join(project, 'dist', env);
        await applyAsReadme(dir, ['--server-side']);
        await assertBroughtUp(dir);
        await assertStable(dir, ['--server-side']);
      }, 240_000);
    }
  });
});
