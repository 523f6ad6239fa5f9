import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactError, classifyRclone } from '../../../src/runtime/agent/artifact-errors.ts';
import { lastError, RcloneSource } from '../../../src/runtime/agent/rclone-source.ts';
import {
  builtInRemotes,
  parseStorageUri,
  redact,
  remotesFromSecret,
  secretValues,
} from '../../../src/runtime/agent/storage-remotes.ts';
import type { SecretReader } from '../../../src/runtime/agent/storage-secrets.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('storage remotes', () => {
  it('splits a storage URI into remote and path', () => {
    expect(parseStorageUri('s3://models/iris/')).toEqual({ remote: 's3', path: 'models/iris' });
    expect(parseStorageUri('gs://seldon-models/scv2/samples/iris')).toEqual({
      remote: 'gs',
      path: 'seldon-models/scv2/samples/iris',
    });
    expect(parseStorageUri('models/iris')).toBeUndefined();
  });

  it("reads Seldon's storage secret format, YAML or JSON", () => {
    const yaml =
      'type: s3\nname: s3\nparameters:\n  provider: Minio\n  env_auth: false\n  access_key_id: minioadmin\n';
    const json = JSON.stringify({ name: 'gs', type: 'gcs', parameters: { anonymous: true } });
    expect(remotesFromSecret('creds', { s3: b64(yaml), gs: b64(json) })).toEqual([
      { name: 'gs', type: 'gcs', parameters: { anonymous: 'true' } },
      {
        name: 's3',
        type: 's3',
        parameters: { provider: 'Minio', env_auth: 'false', access_key_id: 'minioadmin' },
      },
    ]);
  });

  it('names the Secret, the key and what is wrong, without quoting the contents', () => {
    expect(() => remotesFromSecret('creds', {})).toThrow('Secret "creds" has no data');
    expect(() => remotesFromSecret('creds', { k: b64('AKIA-SECRET: [unclosed') })).toThrow(
      'Secret "creds" key "k" is not YAML or JSON',
    );
    expect(() => remotesFromSecret('creds', { k: b64('AKIA-SECRET: [unclosed') })).not.toThrow(/AKIA/);
    expect(() => remotesFromSecret('creds', { k: b64('type: s3') })).toThrow('key "k" has no "name" string');
    expect(() => remotesFromSecret('creds', { k: b64('[1, 2]') })).toThrow(
      'is not an object {name, type, parameters}',
    );
    expect(() => remotesFromSecret('creds', { k: b64('name: s3\ntype: s3\nparameters: [a]') })).toThrow(
      '"parameters" is not a map of rclone options',
    );
  });

  it("defaults: workload credentials for s3 and az, Seldon's anonymous gs unless ADC is set", () => {
    const gs = (env: NodeJS.ProcessEnv) => builtInRemotes(env).find((r) => r.name === 'gs')?.parameters;
    expect(gs({})).toEqual({ anonymous: 'true' });
    expect(gs({ GOOGLE_APPLICATION_CREDENTIALS: '/var/run/gcp/key.json' })).toEqual({
      service_account_file: '/var/run/gcp/key.json',
    });
    expect(builtInRemotes({}).find((r) => r.name === 's3')?.parameters).toEqual({
      provider: 'AWS',
      env_auth: 'true',
    });
  });

  it('redacts credentials, including the signature of a SAS URL, and keeps endpoints', () => {
    const remote = {
      name: 'az',
      type: 'azureblob',
      parameters: {
        endpoint: 'http://minio:9000',
        key: 'c2VjcmV0LWtleQ==',
        sas_url: 'http://h/a?sv=2019&sig=abc%2Bdef%3D%3D',
      },
    };
    const values = secretValues(remote);
    const text = redact(
      'key c2VjcmV0LWtleQ== sig=abc+def== sig=abc%2Bdef%3D%3D at http://minio:9000',
      values,
    );
    expect(text).toBe('key *** sig=*** sig=*** at http://minio:9000');
  });
});

describe('rclone failures', () => {
  it('classifies what rclone prints', () => {
    expect(
      classifyRclone(
        1,
        'InvalidAccessKeyId: The AWS Access Key Id you provided does not exist\n status code: 403',
      ),
    ).toBe('access-denied');
    expect(
      classifyRclone(
        1,
        'ERROR : S3 bucket models path iris: error reading source root directory: InvalidAccessKeyId: The AWS Access Key Id you provided does not exist in our records.',
      ),
    ).toBe('access-denied');
    expect(classifyRclone(1, '===== RESPONSE ERROR (ServiceCode=AuthorizationFailure) =====')).toBe(
      'access-denied',
    );
    expect(classifyRclone(3, 'Failed to copy: directory not found')).toBe('not-found');
    expect(classifyRclone(1, 'NoSuchBucket: The specified bucket does not exist')).toBe('no-bucket');
    expect(classifyRclone(1, `didn't find backend called "s4"`)).toBe('bad-secret');
    expect(classifyRclone(5, 'dial tcp 127.0.0.1:1: connect: connection refused')).toBe('transient');
  });

  it('keeps the telling line', () => {
    expect(
      lastError(
        '2026/01/01 10:00:00 ERROR : x: error reading\n2026/01/01 10:00:00 Failed to copy: directory not found\n',
        3,
      ),
    ).toBe('directory not found');
    expect(
      lastError(
        '===== RESPONSE ERROR (ServiceCode=AuthorizationFailure) =====\nDescription=403 Server failed, Details: (none)\n',
        1,
      ),
    ).toBe('AuthorizationFailure: 403 Server failed');
  });
});

/** Stands in for rclone: records its arguments and environment, then acts as `FAKE_MODE` says. */
const FAKE = `#!/usr/bin/env node
const fs = require('node:fs');
const path = require('node:path');
const [, , cmd, src, dest] = process.argv;
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('RCLONE_') || k === 'AWS_CA_BUNDLE'));
fs.writeFileSync(process.env.FAKE_LOG, JSON.stringify({ args: process.argv.slice(2), env }));
const mode = process.env.FAKE_MODE;
if (mode === 'ok') { fs.mkdirSync(dest, { recursive: true }); fs.writeFileSync(path.join(dest, 'model-settings.json'), '{}'); process.exit(0); }
if (mode === 'empty') process.exit(0);
if (mode === 'denied') { console.error('2026/01/01 00:00:00 Failed to copy: InvalidAccessKeyId: key ' + process.env.RCLONE_CONFIG_SRC_SECRET_ACCESS_KEY + ' rejected\\n status code: 403'); process.exit(1); }
console.error('Failed to copy: dial tcp: connection refused'); process.exit(5);
`;

describe('RcloneSource (fake rclone, fake Secret reader)', () => {
  let dir: string;
  let binary: string;
  const secrets = new Map<string, Record<string, string>>();
  const reads: string[] = [];
  const reader: SecretReader = {
    async read(namespace, name) {
      reads.push(`${namespace}/${name}`);
      const data = secrets.get(`${namespace}/${name}`);
      if (!data)
        throw new ArtifactError('bad-secret', `Secret "${name}" does not exist in namespace ${namespace}`);
      return data;
    },
  };
  const minio = {
    name: 's3',
    type: 's3',
    parameters: {
      provider: 'Minio',
      endpoint: 'http://minio:9000',
      access_key_id: 'admin',
      secret_access_key: 'topsecret',
    },
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlops-rclone-'));
    binary = join(dir, 'rclone');
    writeFileSync(binary, FAKE);
    chmodSync(binary, 0o755);
    secrets.set('models/minio', { s3: b64(JSON.stringify(minio)) });
    secrets.set('models/bad', { s3: b64('name: s3\nparameters: {}') });
    secrets.set('mlops/defaults', {
      gs: b64(
        JSON.stringify({
          name: 'gs',
          type: 'gcs',
          parameters: { service_account_credentials: '{"k":"pk"}' },
        }),
      ),
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const source = (mode: string, env: NodeJS.ProcessEnv = {}) =>
    new RcloneSource({
      binary,
      secrets: reader,
      defaultSecrets: ['defaults'],
      namespace: 'mlops',
      env: { PATH: process.env.PATH, FAKE_MODE: mode, FAKE_LOG: join(dir, 'log.json'), ...env },
    });
  const fetchInto = async (s: RcloneSource, uri: string, secretName = '') => {
    const dest = mkdtempSync(join(dir, 'dest-'));
    await s.fetch({ model: 'iris', namespace: 'models', uri, secretName }, dest);
    return dest;
  };
  const log = () =>
    JSON.parse(readFileSync(join(dir, 'log.json'), 'utf8')) as {
      args: string[];
      env: Record<string, string>;
    };

  it("defines the Secret's remote in rclone's environment only, never on its command line", async () => {
    await fetchInto(source('ok', { AWS_CA_BUNDLE: '/etc/ca.pem' }), 's3://models/iris', 'minio');
    const { args, env } = log();
    expect(args.slice(0, 3)).toEqual(['copy', 'src:models/iris', expect.stringContaining('dest-')]);
    expect(args).toContain('--ca-cert');
    expect(args.join(' ')).not.toContain('topsecret');
    expect(env).toMatchObject({
      RCLONE_CONFIG_SRC_TYPE: 's3',
      RCLONE_CONFIG_SRC_ENDPOINT: 'http://minio:9000',
      RCLONE_CONFIG_SRC_SECRET_ACCESS_KEY: 'topsecret',
    });
    expect(env.AWS_CA_BUNDLE).toBeUndefined();
    expect(reads).toContain('models/minio');
  });

  it("uses the Runtime's default remotes, then the built-in ones", async () => {
    await fetchInto(source('ok'), 'gs://bucket/iris');
    expect(log().env).toMatchObject({
      RCLONE_CONFIG_SRC_TYPE: 'gcs',
      RCLONE_CONFIG_SRC_SERVICE_ACCOUNT_CREDENTIALS: '{"k":"pk"}',
    });
    await fetchInto(source('ok'), 'az://container/iris');
    expect(log().env.RCLONE_CONFIG_SRC_TYPE).toBe('azureblob');
    expect(reads).toContain('mlops/defaults');
  });

  it('refuses with the model, URI, cause and fix, and never shows a credential', async () => {
    const denied = fetchInto(source('denied'), 's3://models/iris', 'minio');
    await expect(denied).rejects.toThrow(
      'Model iris: cannot fetch s3://models/iris: access denied with Secret "minio" (namespace models) (InvalidAccessKeyId: key *** rejected) . Fix: give the credentials in Secret "minio" (namespace models) read access to s3://models/iris, or correct them'.replace(
        ' .',
        '.',
      ),
    );
    await expect(fetchInto(source('empty'), 's3://models/none', 'minio')).rejects.toMatchObject({
      failure: 'not-found',
    });
    await expect(fetchInto(source('ok'), 's3://models/iris', 'bad')).rejects.toThrow(
      'Model iris: cannot fetch s3://models/iris: the storage credentials of Secret "bad" (namespace models) are not usable (Secret "bad" key "s3" has no "type" string). Fix: write the Secret as Seldon does',
    );
    await expect(fetchInto(source('ok'), 'gs://b/x', 'minio')).rejects.toThrow(
      'Secret "minio" defines remote "s3" but the URI names remote "gs"',
    );
    await expect(fetchInto(source('ok'), 'hdfs://b/x')).rejects.toMatchObject({ failure: 'unsupported' });
    await expect(fetchInto(source('flaky'), 's3://models/iris', 'minio')).rejects.toMatchObject({
      failure: 'transient',
    });
    await expect(fetchInto(source('ok', {}), 's3://models/iris', 'missing')).rejects.toThrow(
      'Model iris: cannot fetch s3://models/iris: Secret "missing" does not exist in namespace models',
    );
  });

  it('says how to fix a missing rclone', async () => {
    const s = new RcloneSource({
      binary: join(dir, 'no-rclone'),
      secrets: reader,
      defaultSecrets: [],
      namespace: 'm',
      env: {},
    });
    await expect(fetchInto(s, 'az://c/x')).rejects.toThrow(
      "Fix: install rclone in the agent's image, or point --rclone at it",
    );
  });
});
