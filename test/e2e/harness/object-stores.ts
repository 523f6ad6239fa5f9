import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cachePath, pinnedVersion, provisioned } from './cache.ts';
import { freePort } from './ports.ts';
import { startProcess, waitUntilReady } from './process.ts';

const run = promisify(execFile);

/** An object store on 127.0.0.1 and the rclone remote (Seldon's secret format) that reads it. */
export interface ObjectStore {
  /** The URI scheme and remote name: `s3`, `gs` or `az`. */
  scheme: 's3' | 'gs' | 'az';
  /** Remote definition with working credentials. */
  remote: { name: string; type: string; parameters: Record<string, string> };
  /** The same remote with credentials the store rejects (undefined: the store checks none). */
  deniedRemote?: { name: string; type: string; parameters: Record<string, string> };
  /** Creates `bucket` and copies the local folder `from` to `bucket/path`. */
  upload(from: string, bucket: string, path: string): Promise<void>;
  stop(): Promise<void>;
  logFile: string;
}

/** Azurite's well-known development account (public; it is the emulator's default). */
const AZURITE_ACCOUNT = 'devstoreaccount1';
const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** rclone with a remote defined in its environment (as the agent runs it). */
async function rclone(remote: ObjectStore['remote'], args: string[], extra: Record<string, string> = {}) {
  const { AWS_CA_BUNDLE: _ca, ...env } = process.env;
  const config: Record<string, string> = { RCLONE_CONFIG_DST_TYPE: remote.type };
  for (const [k, v] of Object.entries({ ...remote.parameters, ...extra }))
    config[`RCLONE_CONFIG_DST_${k.toUpperCase()}`] = v;
  await run('rclone', [...args, '--config', '', '--retries', '1', '--low-level-retries', '1'], {
    env: { ...env, ...config },
    timeout: 120_000,
  });
}

function uploader(remote: ObjectStore['remote'], extra: Record<string, string> = {}) {
  return async (from: string, bucket: string, path: string) => {
    await rclone(remote, ['mkdir', `dst:${bucket}`], extra);
    await rclone(remote, ['copy', from, `dst:${bucket}/${path}`], extra);
  };
}

function workDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `mlops-e2e-${name}-`));
  mkdirSync(join(dir, 'data'));
  return dir;
}

/** s3rver (npm): an S3 API server; it checks the access key id (not the signature). */
export async function startS3(): Promise<ObjectStore> {
  const version = pinnedVersion('S3RVER_VERSION');
  const root = provisioned('object-stores', cachePath('s3rver', version));
  const dir = workDir('s3');
  const port = await freePort();
  const logFile = join(dir, 's3rver.log');
  const proc = startProcess(
    's3rver',
    join(root, 'node_modules', '.bin', 's3rver'),
    ['--directory', join(dir, 'data'), '--address', '127.0.0.1', '--port', String(port), '--silent'],
    { logFile },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilReady(
    proc,
    `s3rver on ${endpoint}`,
    async () => (await fetch(endpoint)).status < 500,
    30_000,
  );
  const parameters = {
    provider: 'Minio',
    env_auth: 'false',
    endpoint,
    access_key_id: 'S3RVER',
    secret_access_key: 'S3RVER',
  };
  const remote = { name: 's3', type: 's3', parameters };
  return {
    scheme: 's3',
    remote,
    deniedRemote: { ...remote, parameters: { ...parameters, access_key_id: 'NOT-A-KEY' } },
    upload: uploader(remote),
    logFile,
    async stop() {
      await proc.stop(5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** fake-gcs-server (Go module proxy): the GCS JSON API; it accepts any caller. */
export async function startGcs(): Promise<ObjectStore> {
  const version = pinnedVersion('FAKE_GCS_SERVER_VERSION');
  const root = provisioned('object-stores', cachePath('fake-gcs-server', `v${version}`));
  const dir = workDir('gcs');
  const port = await freePort();
  const logFile = join(dir, 'fake-gcs-server.log');
  const proc = startProcess(
    'fake-gcs-server',
    join(root, 'fake-gcs-server'),
    [
      '-scheme',
      'http',
      '-host',
      '127.0.0.1',
      '-port',
      String(port),
      '-backend',
      'memory',
      '-log-level',
      'warn',
    ],
    { logFile },
  );
  const base = `http://127.0.0.1:${port}`;
  await waitUntilReady(
    proc,
    `fake-gcs-server on ${base}`,
    async () => (await fetch(`${base}/storage/v1/b`)).ok,
    30_000,
  );
  const remote = {
    name: 'gs',
    type: 'google cloud storage',
    parameters: { anonymous: 'true', endpoint: `${base}/storage/v1/` },
  };
  return {
    scheme: 'gs',
    remote,
    // Creating a bucket needs a project; reading does not.
    upload: uploader(remote, { project_number: 'e2e' }),
    logFile,
    async stop() {
      await proc.stop(5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An account SAS for Azurite (all blob permissions, one hour), signed with `key`. */
function accountSas(base: string, key: string): string {
  const expiry = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const p = { sv: '2019-12-12', ss: 'b', srt: 'sco', sp: 'rwdlac', se: expiry, spr: 'https,http' };
  const toSign = [AZURITE_ACCOUNT, p.sp, p.ss, p.srt, '', p.se, '', p.spr, p.sv, ''].join('\n');
  const sig = createHmac('sha256', Buffer.from(key, 'base64')).update(toSign, 'utf8').digest('base64');
  return `${base}?${new URLSearchParams({ ...p, sig })}`;
}

/** Azurite (npm): Azure Blob Storage; it checks signatures. Reached through a SAS URL. */
export async function startAzurite(): Promise<ObjectStore> {
  const version = pinnedVersion('AZURITE_VERSION');
  const root = provisioned('object-stores', cachePath('azurite', version));
  const dir = workDir('azurite');
  const port = await freePort();
  const logFile = join(dir, 'azurite.log');
  const proc = startProcess(
    'azurite',
    join(root, 'node_modules', '.bin', 'azurite-blob'),
    [
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(port),
      '--location',
      join(dir, 'data'),
      '--skipApiVersionCheck',
      '--silent',
    ],
    { logFile },
  );
  const base = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  await waitUntilReady(proc, `Azurite on ${base}`, async () => (await fetch(base)).status < 500, 30_000);
  const remote = { name: 'az', type: 'azureblob', parameters: { sas_url: accountSas(base, AZURITE_KEY) } };
  const wrongKey = Buffer.from('not-the-account-key-not-the-account-key').toString('base64');
  return {
    scheme: 'az',
    remote,
    deniedRemote: { ...remote, parameters: { sas_url: accountSas(base, wrongKey) } },
    upload: uploader(remote),
    logFile,
    async stop() {
      await proc.stop(5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
