import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cachePath, pinnedVersion, provisioned } from './cache.ts';
import { type KubeApiserver, startKubeApiserver } from './kube.ts';
import { freePort } from './ports.ts';
import { type ManagedProcess, startProcess, waitUntilReady } from './process.ts';

/** A fake node that kwok keeps Ready. */
export interface FakeNode {
  name: string;
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }[];
  /** Allocatable resources (also the capacity), e.g. `{ cpu: '16', memory: '64Gi', 'nvidia.com/gpu': '1' }`. */
  resources?: Record<string, string>;
}

export interface KubeCluster extends KubeApiserver {
  /** Runs the provisioned kubectl against this cluster; resolves with its exit code and output. */
  kubectl(args: string[], opts?: { input?: string; env?: Record<string, string> }): Promise<KubectlResult>;
  /** Path of the provisioned kubectl binary. */
  kubectlPath: string;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

const CONTROLLER_TIMEOUT_MS = 90_000;
const NODE_TIMEOUT_MS = 60_000;
const DEFAULT_RESOURCES = { cpu: '16', memory: '64Gi', pods: '110', 'ephemeral-storage': '200Gi' };
const execFileAsync = promisify(execFile);

export function controlPlaneBinaries(): {
  controllerManager: string;
  scheduler: string;
  kubectl: string;
  kwok: string;
  kwokStages: string;
} {
  const plane = provisioned(
    'kube',
    cachePath('kube-control-plane', `v${pinnedVersion('KUBERNETES_VERSION')}`),
  );
  const kwok = provisioned('kwok', cachePath('kwok', `v${pinnedVersion('KWOK_VERSION')}`));
  return {
    controllerManager: join(plane, 'kube-controller-manager'),
    scheduler: join(plane, 'kube-scheduler'),
    kubectl: join(plane, 'kubectl'),
    kwok: join(kwok, 'kwok'),
    kwokStages: join(kwok, 'stages.yaml'),
  };
}

/** GET over https without verifying the self-signed certificate a component made for itself. */
function healthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { rejectUnauthorized: false, timeout: 5_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * A whole control plane on 127.0.0.1: etcd and kube-apiserver (default admission plugins,
 * PodSecurity among them), kube-controller-manager (Deployments become ReplicaSets and Pods,
 * Services get endpoints, ...), kube-scheduler, and kwok playing the kubelet of the given fake
 * nodes (scheduled Pods become Running and Ready; no container runs). Stop it with `stop()`.
 */
export async function startKubeCluster(nodes: FakeNode[]): Promise<KubeCluster> {
  const bin = controlPlaneBinaries();
  const kube = await startKubeApiserver();
  const dir = mkdtempSync(join(tmpdir(), 'mlops-e2e-cluster-'));
  const processes: ManagedProcess[] = [];
  const stop = async () => {
    for (const p of processes.reverse()) await p.stop(10_000);
    processes.length = 0;
    await kube.stop();
  };
  const kubectl = async (
    args: string[],
    opts: { input?: string; env?: Record<string, string> } = {},
  ): Promise<KubectlResult> => {
    const child = execFileAsync(bin.kubectl, ['--kubeconfig', kube.kubeconfigPath, ...args], {
      env: { ...process.env, ...opts.env },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 120_000,
    });
    if (opts.input !== undefined) child.child.stdin?.end(opts.input);
    try {
      const { stdout, stderr } = await child;
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
      if (typeof e.code !== 'number') throw err;
      return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message };
    }
  };
  try {
    const caFile = join(dir, 'ca.crt');
    writeFileSync(caFile, kube.caCert);
    const component = async (name: string, command: string, args: string[]) => {
      const port = await freePort();
      const certDir = join(dir, name);
      mkdirSync(certDir);
      const proc = startProcess(
        name,
        command,
        [
          `--kubeconfig=${kube.kubeconfigPath}`,
          '--leader-elect=false',
          '--bind-address=127.0.0.1',
          `--secure-port=${port}`,
          `--cert-dir=${certDir}`,
          ...args,
        ],
        { logFile: join(kube.logDir, `${name}.log`) },
      );
      processes.push(proc);
      await waitUntilReady(
        proc,
        `${name} on 127.0.0.1:${port}`,
        () => healthy(`https://127.0.0.1:${port}/healthz`),
        CONTROLLER_TIMEOUT_MS,
      );
    };
    await component('kube-controller-manager', bin.controllerManager, [
      `--root-ca-file=${caFile}`,
      // kwok's nodes are healthy by construction, but their status heartbeat can come later than
      // the default grace period, after which every pod on them would be marked not ready (and
      // kwok never readies them again). Node failure is not what these suites test.
      '--node-monitor-grace-period=1h',
      '--concurrent-deployment-syncs=10',
      '--concurrent-statefulset-syncs=10',
    ]);
    await component('kube-scheduler', bin.scheduler, []);

    const kwokPort = await freePort();
    const kwok = startProcess(
      'kwok',
      bin.kwok,
      [
        `--kubeconfig=${kube.kubeconfigPath}`,
        `--config=${bin.kwokStages}`,
        '--manage-all-nodes=false',
        '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
        '--cidr=10.244.0.0/16',
        '--node-ip=10.0.0.10',
        `--server-address=127.0.0.1:${kwokPort}`,
      ],
      { logFile: join(kube.logDir, 'kwok.log') },
    );
    processes.push(kwok);
    const cluster: KubeCluster = { ...kube, stop, kubectl, kubectlPath: bin.kubectl };
    await addNodes(cluster, nodes);
    await waitUntilReady(
      kwok,
      `kwok making ${nodes.length} node(s) Ready`,
      async () => {
        const out = await kubectl(['get', 'nodes', '-o', 'json']);
        if (out.code !== 0) return false;
        const items = (JSON.parse(out.stdout) as { items: NodeStatus[] }).items;
        return items.filter(isReady).length === nodes.length;
      },
      NODE_TIMEOUT_MS,
    );
    return cluster;
  } catch (err) {
    await stop();
    throw err;
  }
}

interface NodeStatus {
  status?: { conditions?: { type: string; status: string }[] };
}

const isReady = (n: NodeStatus) =>
  n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** Creates fake nodes that kwok manages (the annotation it selects on). */
async function addNodes(cluster: KubeCluster, nodes: FakeNode[]): Promise<void> {
  const objects = nodes.map((n) => {
    const resources = { ...DEFAULT_RESOURCES, ...n.resources };
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: n.name,
        annotations: { 'kwok.x-k8s.io/node': 'fake' },
        labels: { 'kubernetes.io/hostname': n.name, type: 'kwok', ...n.labels },
      },
      spec: { taints: n.taints ?? [] },
      status: { allocatable: resources, capacity: resources },
    };
  });
  const out = await cluster.kubectl(['create', '-f', '-'], {
    input: objects.map((o) => JSON.stringify(o)).join('\n'),
  });
  if (out.code !== 0) throw new Error(`creating fake nodes failed: ${out.stderr}`);
}
