import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { cachePath, pinnedVersion, provisioned } from './cache.ts';
import { freePort } from './ports.ts';
import { type ManagedProcess, startProcess, waitUntilReady } from './process.ts';

export interface KubeApiserver {
  /** A kubeconfig for @kubernetes/client-node (KubeConfig.loadFromFile) or kubectl. */
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** Bearer token of a cluster-admin (group system:masters). */
  token: string;
  /** PEM of the CA that signed the serving certificate. */
  caCert: string;
  stop(): Promise<void>;
  logDir: string;
}

const ETCD_TIMEOUT_MS = 60_000;
const APISERVER_TIMEOUT_MS = 120_000;

export function kubeBinaries(): { apiserver: string; etcd: string; kubectl: string } {
  const k = pinnedVersion('KUBERNETES_VERSION');
  const e = pinnedVersion('ETCD_VERSION');
  return {
    apiserver: join(provisioned('kube', cachePath('kube-apiserver', `v${k}`)), 'kube-apiserver'),
    etcd: join(provisioned('kube', cachePath('etcd', `v${e}`)), 'etcd'),
    kubectl: join(provisioned('kube', cachePath('kube-control-plane', `v${k}`)), 'kubectl'),
  };
}

/** A throwaway CA and a serving certificate for 127.0.0.1/localhost, made with openssl. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const ca = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  const cert = join(dir, 'apiserver.crt');
  const key = join(dir, 'apiserver.key');
  const csr = join(dir, 'apiserver.csr');
  const ext = join(dir, 'apiserver.ext');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const openssl = (args: string[]) => {
    try {
      execFileSync('openssl', args, { stdio: 'pipe' });
    } catch (err) {
      const e = err as { stderr?: Buffer; message: string };
      throw new Error(
        `openssl ${args[0]} failed (is openssl installed?): ${e.stderr?.toString() || e.message}`,
      );
    }
  };
  openssl(['req', '-x509', ...ec, '-keyout', caKey, '-out', ca, '-days', '2', '-subj', '/CN=mlops-e2e-ca']);
  openssl(['req', ...ec, '-keyout', key, '-out', csr, '-subj', '/CN=kube-apiserver']);
  writeFileSync(
    ext,
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n',
  );
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca,
    '-CAkey',
    caKey,
    '-CAcreateserial',
    '-out',
    cert,
    '-days',
    '2',
    '-extfile',
    ext,
  ]);
  return { ca, cert, key };
}

interface RawResponse {
  status: number;
  body: string;
}

function httpsRequest(
  url: string,
  ca: string,
  token: string,
  opts: { method?: string; contentType?: string; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (opts.contentType) headers['content-type'] = opts.contentType;
    const req = request(url, { method: opts.method ?? 'GET', ca, headers, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${opts.method ?? 'GET'} ${url}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

export interface ApplyObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

const discovery = new WeakMap<KubeApiserver, Map<string, { plural: string; namespaced: boolean }>>();

async function resourceFor(
  kube: KubeApiserver,
  apiVersion: string,
  kind: string,
): Promise<{ plural: string; namespaced: boolean }> {
  let known = discovery.get(kube);
  if (!known) {
    known = new Map();
    discovery.set(kube, known);
  }
  const key = `${apiVersion}/${kind}`;
  const cached = known.get(key);
  if (cached) return cached;
  // Re-read the group version each miss: custom resource definitions add kinds at run time.
  const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const res = await httpsRequest(`${kube.server}${path}`, kube.caCert, kube.token);
  if (res.status !== 200) throw new Error(`${apiVersion} is not served by the apiserver (${res.status})`);
  const list = JSON.parse(res.body) as { resources: { name: string; kind: string; namespaced: boolean }[] };
  for (const r of list.resources) {
    if (!r.name.includes('/'))
      known.set(`${apiVersion}/${r.kind}`, { plural: r.name, namespaced: r.namespaced });
  }
  const found = known.get(key);
  if (!found) throw new Error(`${apiVersion} has no kind ${kind}`);
  return found;
}

/**
 * Server-side apply of one object exactly as written (no client-side model in between, so
 * unknown fields reach the server, which rejects them: fieldValidation=Strict). With
 * `dryRun` nothing is persisted. Throws with the apiserver's message on refusal.
 */
export async function serverSideApply(
  kube: KubeApiserver,
  object: ApplyObject,
  opts: { dryRun?: boolean; fieldManager?: string } = {},
): Promise<Record<string, unknown>> {
  const { plural, namespaced } = await resourceFor(kube, object.apiVersion, object.kind);
  const base = object.apiVersion.includes('/') ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
  const ns = namespaced ? `/namespaces/${object.metadata.namespace ?? 'default'}` : '';
  const query = new URLSearchParams({
    fieldManager: opts.fieldManager ?? 'mlops-e2e',
    force: 'true',
    fieldValidation: 'Strict',
  });
  if (opts.dryRun) query.set('dryRun', 'All');
  const url = `${kube.server}${base}${ns}/${plural}/${encodeURIComponent(object.metadata.name)}?${query}`;
  const res = await httpsRequest(url, kube.caCert, kube.token, {
    method: 'PATCH',
    contentType: 'application/apply-patch+yaml',
    body: JSON.stringify(object),
  });
  if (res.status >= 300) {
    let message = res.body;
    try {
      message = (JSON.parse(res.body) as { message: string }).message;
    } catch {
      // not a Status object
    }
    throw new Error(
      `apply ${object.kind} ${object.metadata.namespace ?? ''}/${object.metadata.name}: ${res.status} ${message}`,
    );
  }
  return JSON.parse(res.body) as Record<string, unknown>;
}

/**
 * Applies custom resource definitions and waits until the apiserver serves each (Established),
 * so custom resources of those kinds can be applied next.
 */
export async function applyCrds(kube: KubeApiserver, crds: ApplyObject[], timeoutMs = 30_000): Promise<void> {
  for (const crd of crds) await serverSideApply(kube, crd);
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    const url = `${kube.server}/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`;
    for (;;) {
      const res = await httpsRequest(url, kube.caCert, kube.token, { method: 'GET' });
      const conditions = res.status === 200 ? (JSON.parse(res.body).status?.conditions ?? []) : [];
      if (
        conditions.some(
          (c: { type: string; status: string }) => c.type === 'Established' && c.status === 'True',
        )
      )
        break;
      if (Date.now() > deadline)
        throw new Error(`${crd.metadata.name} not established within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * Starts etcd and kube-apiserver on free 127.0.0.1 ports, with a fresh certificate, a static
 * admin token and a kubeconfig. Storage lives in a temporary directory removed on stop (the logs
 * stay).
 */
export async function startKubeApiserver(): Promise<KubeApiserver> {
  const bin = kubeBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'mlops-e2e-kube-'));
  const logDir = join(dir, 'logs');
  const pki = join(dir, 'pki');
  const etcdData = join(dir, 'etcd');
  mkdirSync(logDir);
  mkdirSync(pki);
  const tls = makeCertificates(pki);

  // Service-account tokens are signed with this key; no controller issues them here, but the
  // apiserver refuses to start without one.
  const sa = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  writeFileSync(join(pki, 'sa.key'), sa.privateKey);
  writeFileSync(join(pki, 'sa.pub'), sa.publicKey);
  const token = randomBytes(24).toString('hex');
  writeFileSync(join(pki, 'tokens.csv'), `${token},mlops-e2e-admin,mlops-e2e-admin,"system:masters"\n`);

  const [clientPort, peerPort, securePort] = [await freePort(), await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const processes: ManagedProcess[] = [];
  const stopAll = async () => {
    for (const p of processes.reverse()) await p.stop(10_000);
    processes.length = 0;
    rmSync(etcdData, { recursive: true, force: true });
  };

  try {
    const etcd = startProcess(
      'etcd',
      bin.etcd,
      [
        '--name=e2e',
        `--data-dir=${etcdData}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=e2e=${peerUrl}`,
        // Test data: durability across power loss does not matter, speed does.
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      { logFile: join(logDir, 'etcd.log') },
    );
    processes.push(etcd);
    await waitUntilReady(
      etcd,
      `etcd on ${etcdUrl}`,
      async () => (await fetch(`${etcdUrl}/health`)).ok,
      ETCD_TIMEOUT_MS,
    );

    const apiserver = startProcess(
      'kube-apiserver',
      bin.apiserver,
      [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${securePort}`,
        `--cert-dir=${pki}`,
        `--tls-cert-file=${tls.cert}`,
        `--tls-private-key-file=${tls.key}`,
        `--token-auth-file=${join(pki, 'tokens.csv')}`,
        '--authorization-mode=RBAC',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${join(pki, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
        '--service-cluster-ip-range=10.96.0.0/24',
        '--allow-privileged=true',
        '--endpoint-reconciler-type=none',
        '--enable-priority-and-fairness=false',
        '--profiling=false',
      ],
      { logFile: join(logDir, 'kube-apiserver.log') },
    );
    processes.push(apiserver);
    const server = `https://127.0.0.1:${securePort}`;
    const caCert = readFileSync(tls.ca, 'utf8');
    await waitUntilReady(
      apiserver,
      `kube-apiserver on ${server}`,
      async () => (await httpsRequest(`${server}/readyz`, caCert, token)).status === 200,
      APISERVER_TIMEOUT_MS,
    );

    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfigPath,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'e2e',
            cluster: { server, 'certificate-authority-data': Buffer.from(caCert).toString('base64') },
          },
        ],
        users: [{ name: 'e2e-admin', user: { token } }],
        contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: 'e2e-admin' } }],
        'current-context': 'e2e',
      }),
    );
    return { kubeconfigPath, server, token, caCert, logDir, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
