import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ModelDefinition } from '../protocol/control.ts';
import { internalModelName } from '../protocol/control.ts';
import { ArtifactError } from './artifact-errors.ts';
import { type ArtifactSource, fileSource, httpSource } from './artifact-source.ts';
import type { AgentMetrics } from './metrics.ts';
import { writeModelSettings } from './model-settings.ts';

export interface RetryPolicy {
  /** Tries of one download, the first included. */
  attempts: number;
  /** Wait before the second try; doubled before each next one, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface ArtifactCacheOptions {
  /** Tried in order; the first that handles a URI fetches it. */
  sources?: ArtifactSource[];
  /** Downloads running at once (more wait their turn). */
  maxConcurrent?: number;
  retry?: RetryPolicy;
  /** `host:port` of the gateway explainers and LLM models call their targets through. */
  gateway?: string;
  log?: Logger;
  metrics?: Pick<AgentMetrics, 'downloads' | 'downloadSeconds'>;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 1000, maxDelayMs: 15_000 };

/**
 * Local cache of model artifacts. An artifact is downloaded once into `downloads/<key>` (the key
 * hashes the URI, artifact version and credentials), into a temporary folder renamed when complete, so a
 * download is whole or absent, also after the agent restarts, and a restarted agent reuses it.
 * The chosen version folder is then copied to `<modelsDir>/<model>_<version>/` with its
 * `model-settings.json` rewritten, where the inference server's repository API finds it.
 */
export class ArtifactCache {
  private readonly sources: ArtifactSource[];
  private readonly retry: RetryPolicy;
  private readonly maxConcurrent: number;
  private running = 0;
  private readonly queue: (() => void)[] = [];
  private readonly inFlight = new Map<string, Promise<string>>();
  /** Which registered models use each download (it is removed with its last user). */
  private readonly users = new Map<string, Set<string>>();

  constructor(
    readonly cacheDir: string,
    readonly modelsDir: string,
    private readonly opts: ArtifactCacheOptions = {},
  ) {
    this.sources = opts.sources ?? [fileSource, httpSource];
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.maxConcurrent = Math.max(1, opts.maxConcurrent ?? 4);
    const downloads = join(this.cacheDir, 'downloads');
    mkdirSync(downloads, { recursive: true });
    mkdirSync(this.modelsDir, { recursive: true });
    // Left by a download the agent did not finish (it was stopped): never used, so removed.
    for (const d of readdirSync(downloads)) {
      if (d.endsWith('.partial')) rmSync(join(downloads, d), { recursive: true, force: true });
    }
  }

  modelDir(def: Pick<ModelDefinition, 'name' | 'version'>): string {
    return join(this.modelsDir, internalModelName(def.name, def.version));
  }

  /**
   * Where the download of `def`'s artifact is kept: one per URI and artifact version, and per
   * credentials, so a model never gets files fetched with another model's Secret.
   */
  downloadDir(
    def: Pick<ModelDefinition, 'storageUri' | 'artifactVersion' | 'namespace' | 'secretName'>,
  ): string {
    const key = createHash('sha256')
      .update([def.storageUri, def.artifactVersion || 0, def.namespace, def.secretName].join('\n'))
      .digest('hex')
      .slice(0, 20);
    return join(this.cacheDir, 'downloads', key);
  }

  /** Makes the model folder ready for the server; returns it. Errors name the model, URI and fix. */
  async prepare(def: ModelDefinition): Promise<string> {
    const source = this.sources.find((s) => s.handles(def.storageUri));
    if (!source) {
      throw new ArtifactError(
        'unsupported',
        `Model ${def.name}: unsupported storage URI ${def.storageUri}. Fix: use s3://, gs://, az://, http(s):// or file://`,
      );
    }
    const download = await this.download(def, source);
    const name = internalModelName(def.name, def.version);
    const users = this.users.get(download) ?? new Set();
    users.add(name);
    this.users.set(download, users);
    const target = this.modelDir(def);
    rmSync(target, { recursive: true, force: true });
    cpSync(selectVersionFolder(download, def), target, { recursive: true });
    writeModelSettings(target, def, this.opts.gateway);
    return target;
  }

  /** Removes the model folder, and the download once no registered model uses it. */
  remove(def: ModelDefinition): void {
    rmSync(this.modelDir(def), { recursive: true, force: true });
    const download = this.downloadDir(def);
    const users = this.users.get(download);
    users?.delete(internalModelName(def.name, def.version));
    if (users && users.size === 0) {
      this.users.delete(download);
      if (!this.inFlight.has(download)) rmSync(download, { recursive: true, force: true });
    }
  }

  /** The finished download of `def`: from disk, from a download under way, or fetched now. */
  private download(def: ModelDefinition, source: ArtifactSource): Promise<string> {
    const dir = this.downloadDir(def);
    if (existsSync(dir)) return Promise.resolve(dir);
    let pending = this.inFlight.get(dir);
    if (!pending) {
      pending = this.limited(() => this.fetchWithRetries(def, source, dir)).finally(() =>
        this.inFlight.delete(dir),
      );
      this.inFlight.set(dir, pending);
    }
    return pending;
  }

  private async fetchWithRetries(def: ModelDefinition, source: ArtifactSource, dir: string): Promise<string> {
    const tmp = `${dir}.partial`;
    const req = {
      model: def.name,
      namespace: def.namespace,
      uri: def.storageUri,
      secretName: def.secretName,
    };
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      try {
        await source.fetch(req, tmp);
        renameSync(tmp, dir);
        const ms = Math.round(performance.now() - started);
        this.opts.metrics?.downloads.inc({ result: 'success' });
        this.opts.metrics?.downloadSeconds.observe(ms / 1000);
        this.opts.log?.info(
          { model: def.name, uri: def.storageUri, ms, attempts: attempt },
          'artifact downloaded',
        );
        return dir;
      } catch (err) {
        rmSync(tmp, { recursive: true, force: true });
        const e =
          err instanceof ArtifactError
            ? err
            : new ArtifactError(
                'transient',
                `Model ${def.name}: cannot fetch ${def.storageUri}: ${(err as Error).message}`,
              );
        if (e.permanent || attempt >= this.retry.attempts) {
          this.opts.metrics?.downloads.inc({ result: e.failure });
          throw attempt > 1 && !e.permanent
            ? new ArtifactError(e.failure, `${e.message} (after ${attempt} tries)`)
            : e;
        }
        const delay = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
        this.opts.log?.warn(
          { model: def.name, uri: def.storageUri, attempt, delayMs: delay, reason: e.message },
          'download failed, retrying',
        );
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Runs `fn` when fewer than `maxConcurrent` downloads are running. */
  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxConcurrent) await new Promise<void>((r) => this.queue.push(r));
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.queue.shift()?.();
    }
  }
}

/**
 * OIP repository layout, as Seldon chooses: a top-level `model-settings.json` wins; otherwise
 * the folder named `artifactVersion`, or else the highest numbered folder.
 */
export function selectVersionFolder(root: string, def: ModelDefinition): string {
  if (existsSync(join(root, 'model-settings.json'))) return root;
  const numbered = readdirSync(root)
    .filter((d) => /^\d+$/.test(d) && statSync(join(root, d)).isDirectory())
    .map(Number)
    .sort((a, b) => a - b);
  if (def.artifactVersion) {
    if (!numbered.includes(def.artifactVersion)) {
      throw new ArtifactError(
        'invalid',
        `Model ${def.name}: artifact ${def.storageUri} has no version folder ${def.artifactVersion} (found: ${numbered.join(', ') || 'none'}). Fix: set spec.artifactVersion to one of them, or upload folder ${def.artifactVersion}`,
      );
    }
    return join(root, String(def.artifactVersion));
  }
  if (numbered.length > 0) return join(root, String(numbered[numbered.length - 1]));
  return root;
}
