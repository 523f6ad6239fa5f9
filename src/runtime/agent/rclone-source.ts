import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { ArtifactError, type CredentialSource, classifyRclone, failureMessage } from './artifact-errors.ts';
import type { ArtifactSource, FetchRequest } from './artifact-source.ts';
import {
  builtInRemotes,
  parseStorageUri,
  type RcloneRemote,
  RemoteFormatError,
  redact,
  remotesFromSecret,
  secretValues,
} from './storage-remotes.ts';
import type { SecretReader } from './storage-secrets.ts';

export interface RcloneSourceOptions {
  /** The rclone binary. */
  binary: string;
  secrets: SecretReader;
  /** Secrets (in `namespace`) with the namespace-wide default remotes, first match wins. */
  defaultSecrets: string[];
  /** The agent's namespace, where the default Secrets live. */
  namespace: string;
  /** The agent's environment: workload credentials for the built-in remotes. */
  env: NodeJS.ProcessEnv;
  /** A copy still running after this long is stopped (and retried). */
  timeoutMs?: number;
}

/** Schemes served by the node sources beside this one. */
const OTHER_SCHEMES = new Set(['file', 'http', 'https']);

/**
 * Object stores (`s3://`, `gs://`, `az://` and any other rclone remote) through the rclone
 * binary. The remote is defined in rclone's environment (`RCLONE_CONFIG_SRC_*`), so credentials
 * appear neither on a command line nor in a file, and are redacted from every message.
 */
export class RcloneSource implements ArtifactSource {
  constructor(private readonly opts: RcloneSourceOptions) {}

  handles(uri: string): boolean {
    const loc = parseStorageUri(uri);
    return loc !== undefined && !OTHER_SCHEMES.has(loc.remote);
  }

  async fetch(req: FetchRequest, dest: string): Promise<void> {
    const loc = parseStorageUri(req.uri);
    if (!loc) throw new ArtifactError('unsupported', `Model ${req.model}: ${req.uri} is not remote://path`);
    const { remote, source } = await this.remoteFor(req, loc.remote);
    const secrets = secretValues(remote);
    const { code, stderr } = await this.run(remote, loc.path, dest);
    const text = redact(stderr, secrets);
    if (code === 127) {
      throw new ArtifactError(
        'unsupported',
        `Model ${req.model}: cannot fetch ${req.uri}: ${text}. Fix: install rclone in the agent's image, or point --rclone at it`,
      );
    }
    if (code === 0) {
      if (readdirSync(dest).length > 0) return;
      throw new ArtifactError(
        'not-found',
        failureMessage(req.model, req.uri, 'not-found', 'the copy found no files', source),
      );
    }
    const failure = classifyRclone(code, text);
    throw new ArtifactError(
      failure,
      failureMessage(req.model, req.uri, failure, lastError(text, code), source),
    );
  }

  /** The Model's Secret, else the Runtime's default remotes, else the built-in ones. */
  private async remoteFor(
    req: FetchRequest,
    name: string,
  ): Promise<{ remote: RcloneRemote; source: CredentialSource }> {
    if (req.secretName) {
      const namespace = req.namespace || this.opts.namespace;
      const source: CredentialSource = { kind: 'secret', secret: req.secretName, namespace };
      const remotes = await this.readRemotes(req, namespace, req.secretName, source);
      const remote = remotes.find((r) => r.name === name);
      if (!remote) {
        throw new ArtifactError(
          'bad-secret',
          `Model ${req.model}: cannot fetch ${req.uri}: Secret "${req.secretName}" defines remote ${remotes
            .map((r) => `"${r.name}"`)
            .join(
              ', ',
            )} but the URI names remote "${name}". Fix: set the remote's "name" to "${name}", or write spec.storageUri as ${remotes[0]?.name ?? name}://...`,
        );
      }
      return { remote, source };
    }
    for (const secret of this.opts.defaultSecrets) {
      const source: CredentialSource = { kind: 'runtime', secret };
      const remotes = await this.readRemotes(req, this.opts.namespace, secret, source);
      const remote = remotes.find((r) => r.name === name);
      if (remote) return { remote, source };
    }
    const remote = builtInRemotes(this.opts.env).find((r) => r.name === name);
    if (remote) return { remote, source: { kind: 'built-in', remote: name } };
    throw new ArtifactError(
      'unsupported',
      `Model ${req.model}: cannot fetch ${req.uri}: no remote "${name}" is defined. Fix: use s3://, gs://, az://, http(s):// or file://, or set spec.secretName to a Secret defining remote "${name}"`,
    );
  }

  private async readRemotes(
    req: FetchRequest,
    namespace: string,
    secret: string,
    source: CredentialSource,
  ): Promise<RcloneRemote[]> {
    let data: Record<string, string>;
    try {
      data = await this.opts.secrets.read(namespace, secret);
    } catch (err) {
      const e = err as Error;
      const failure = err instanceof ArtifactError ? err.failure : 'transient';
      throw new ArtifactError(failure, `Model ${req.model}: cannot fetch ${req.uri}: ${e.message}`);
    }
    try {
      return remotesFromSecret(secret, data);
    } catch (err) {
      if (!(err instanceof RemoteFormatError)) throw err;
      throw new ArtifactError(
        'bad-secret',
        failureMessage(req.model, req.uri, 'bad-secret', err.message, source),
      );
    }
  }

  private run(
    remote: RcloneRemote,
    path: string,
    dest: string,
  ): Promise<{ code: number | null; stderr: string }> {
    const { AWS_CA_BUNDLE: caBundle, ...inherited } = this.opts.env;
    const env: NodeJS.ProcessEnv = { ...inherited, RCLONE_CONFIG_SRC_TYPE: remote.type };
    for (const [k, v] of Object.entries(remote.parameters)) env[`RCLONE_CONFIG_SRC_${k.toUpperCase()}`] = v;
    const args = [
      'copy',
      `src:${path}`,
      dest,
      // No config file: the remote is defined in the environment only.
      '--config',
      '',
      // The agent retries whole downloads itself, after deciding whether the failure is transient.
      '--retries',
      '1',
      '--low-level-retries',
      '3',
      '--transfers',
      '4',
      '--contimeout',
      '10s',
      '--timeout',
      '60s',
      '--log-level',
      'ERROR',
      // rclone's AWS SDK cannot load AWS_CA_BUNDLE itself; its own flag does the same.
      ...(caBundle ? ['--ca-cert', caBundle] : []),
    ];
    return new Promise((resolve) => {
      const child = spawn(this.opts.binary, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        if (stderr.length < 64_000) stderr += d.toString();
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), this.opts.timeoutMs ?? 30 * 60_000);
      child.on('error', (err) => {
        clearTimeout(timer);
        resolve({ code: 127, stderr: `could not run ${this.opts.binary}: ${err.message}` });
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stderr: code === null ? `${stderr}\ncopy stopped after its time limit` : stderr });
      });
    });
  }
}

/** The most telling line of rclone's output, kept short for a status message. */
export function lastError(stderr: string, code: number | null): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /, '').trim())
    .filter(Boolean);
  const service = /ServiceCode=(\w+)/.exec(stderr)?.[1];
  const description = lines.find((l) => l.startsWith('Description='))?.replace(/^Description=/, '');
  let line: string | undefined;
  if (service && description) line = `${service}: ${description.replace(/, Details:.*$/, '')}`;
  line ??= lines.find((l) => l.startsWith('Failed to copy:'))?.replace(/^Failed to copy: /, '');
  line ??= lines.find((l) => l.startsWith('Failed to create file system'));
  line ??= lines
    .filter((l) => l.startsWith('ERROR :'))
    .pop()
    ?.replace(/^ERROR : /, '');
  line ??= lines[lines.length - 1] ?? `rclone exited with ${code}`;
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
