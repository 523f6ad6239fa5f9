import { parse } from 'yaml';

/**
 * An rclone remote definition in Seldon's storage-secret format: `name` is the remote a storage
 * URI names (`s3` in `s3://bucket/path`), `type` the rclone backend, `parameters` its options.
 */
export interface RcloneRemote {
  name: string;
  type: string;
  parameters: Record<string, string>;
}

/** A storage URI split into the remote it names and the path inside it. */
export interface StorageLocation {
  remote: string;
  path: string;
}

/** `s3://bucket/a/b` → remote `s3`, path `bucket/a/b`; undefined when it is not `remote://path`. */
export function parseStorageUri(uri: string): StorageLocation | undefined {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.+)$/i.exec(uri);
  if (!m) return undefined;
  return { remote: m[1].toLowerCase(), path: m[2].replace(/\/+$/, '') };
}

/** Thrown when a Secret's contents are not remote definitions; the message says what is wrong. */
export class RemoteFormatError extends Error {}

/**
 * The remotes a storage Secret defines. Every data key holds one definition as YAML or JSON
 * (`{name, type, parameters}`), as Seldon's storage secrets do; `data` values are base64.
 */
export function remotesFromSecret(secretName: string, data: Record<string, string>): RcloneRemote[] {
  const keys = Object.keys(data).sort();
  if (keys.length === 0) {
    throw new RemoteFormatError(
      `Secret "${secretName}" has no data: it should hold an rclone remote definition`,
    );
  }
  return keys.map((key) => {
    const text = Buffer.from(data[key], 'base64').toString('utf8');
    const where = `Secret "${secretName}" key "${key}"`;
    let value: unknown;
    try {
      value = parse(text);
    } catch {
      // The parser's message quotes the text, which may be a credential.
      throw new RemoteFormatError(`${where} is not YAML or JSON`);
    }
    return checkRemote(where, value);
  });
}

/** Validates one definition (from a Secret, or a Runtime's default remotes). */
export function checkRemote(where: string, value: unknown): RcloneRemote {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new RemoteFormatError(`${where} is not an object {name, type, parameters}`);
  }
  const v = value as Record<string, unknown>;
  const missing = ['name', 'type'].filter((k) => typeof v[k] !== 'string' || v[k] === '');
  if (missing.length > 0) {
    throw new RemoteFormatError(`${where} has no ${missing.map((k) => `"${k}"`).join(' or ')} string`);
  }
  const params = v.parameters ?? {};
  if (typeof params !== 'object' || Array.isArray(params)) {
    throw new RemoteFormatError(`${where}: "parameters" is not a map of rclone options`);
  }
  const parameters: Record<string, string> = {};
  for (const [key, raw] of Object.entries(params as Record<string, unknown>)) {
    if (!/^[a-z0-9_]+$/i.test(key)) {
      throw new RemoteFormatError(`${where}: parameter "${key}" is not an rclone option name`);
    }
    if (raw !== null && typeof raw === 'object') {
      throw new RemoteFormatError(`${where}: parameter "${key}" is not a string, number or boolean`);
    }
    parameters[key.toLowerCase()] = raw === null || raw === undefined ? '' : String(raw);
  }
  return { name: String(v.name), type: String(v.type), parameters };
}

/**
 * The remotes used when neither the Model nor the Runtime defines one: the workload's own
 * credentials for S3 and Azure (environment, IRSA, managed identity), and for GCS Seldon's
 * public default (anonymous reads) unless Application Default Credentials are configured.
 */
export function builtInRemotes(env: NodeJS.ProcessEnv): RcloneRemote[] {
  const gcsCredentials = env.GOOGLE_APPLICATION_CREDENTIALS;
  return [
    { name: 's3', type: 's3', parameters: { provider: 'AWS', env_auth: 'true' } },
    {
      name: 'gs',
      type: 'google cloud storage',
      parameters: gcsCredentials ? { service_account_file: gcsCredentials } : { anonymous: 'true' },
    },
    { name: 'az', type: 'azureblob', parameters: {} },
  ];
}

/** Options known to hold no credential (shown in messages as they help find a mistake). */
const PUBLIC_OPTIONS = new Set([
  'provider',
  'endpoint',
  'region',
  'location_constraint',
  'env_auth',
  'anonymous',
  'use_emulator',
  'use_msi',
  'force_path_style',
  'account',
  'storage_class',
]);

/** The values a message must never show: every other option's value. */
export function secretValues(remote: RcloneRemote): string[] {
  const values = Object.entries(remote.parameters)
    .filter(([k, v]) => !PUBLIC_OPTIONS.has(k) && v.length >= 3)
    .map(([, v]) => v);
  // A SAS URL's signature may be printed re-encoded, apart from the URL.
  const parts = values.flatMap((v) => {
    if (!/^https?:\/\//.test(v)) return [];
    try {
      return [...new URL(v).searchParams.values()].filter((p) => p.length >= 8);
    } catch {
      return [];
    }
  });
  return [...values, ...parts, ...parts.map(encodeURIComponent)];
}

/** `text` with every secret value replaced by `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join('***');
  return out;
}
