import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Logger } from 'pino';
import { parseAllDocuments } from 'yaml';
import {
  API_VERSION,
  type MlopsResource,
  type ModelStatus,
  type ServerStatus,
  type StatusBase,
} from '../../spec/types.ts';
import {
  type DesiredStateHandler,
  type DesiredStateSource,
  type ScaleOutcome,
  WATCHED_KINDS,
  type WatchedKind,
} from './types.ts';

const DELIVERY_ORDER: readonly WatchedKind[] = ['Server', 'Model', 'Pipeline', 'Experiment'];
const key = (kind: string, namespace: string, name: string) => `${kind}/${namespace}/${name}`;

/**
 * Desired state from a folder of synthesized YAML (local mode), re-read when a file changes
 * (polled: portable and cheap for the few files an app has). A file that does not parse keeps its
 * previous objects and is reported once per change. Status and scaling stay in memory.
 */
export class DirectorySource implements DesiredStateSource {
  readonly modelStatus = new Map<string, ModelStatus>();
  readonly serverStatus = new Map<string, ServerStatus>();
  readonly experimentStatus = new Map<string, StatusBase>();
  readonly pipelineStatus = new Map<string, StatusBase>();
  /** Scaling decisions, with the file's `replicas` they were taken over (an edit of it wins). */
  private readonly replicas = new Map<string, { over: number | undefined; replicas: number }>();
  private readonly files = new Map<string, { text: string; objects: MlopsResource[] }>();
  private delivered = new Map<string, string>();
  private handler?: DesiredStateHandler;
  private timer?: NodeJS.Timeout;

  constructor(
    readonly dir: string,
    private readonly log: Logger,
    private readonly pollMs = 500,
  ) {}

  async start(handler: DesiredStateHandler): Promise<void> {
    this.handler = handler;
    this.refresh();
    handler.synced();
    this.timer = setInterval(() => this.refresh(), this.pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
  }

  async writeModelStatus(namespace: string, name: string, status: ModelStatus): Promise<void> {
    this.modelStatus.set(key('Model', namespace, name), status);
  }

  async writeServerStatus(namespace: string, name: string, status: ServerStatus): Promise<void> {
    this.serverStatus.set(key('Server', namespace, name), status);
  }

  async writeExperimentStatus(namespace: string, name: string, status: StatusBase): Promise<void> {
    this.experimentStatus.set(key('Experiment', namespace, name), status);
  }

  async writePipelineStatus(namespace: string, name: string, status: StatusBase): Promise<void> {
    this.pipelineStatus.set(key('Pipeline', namespace, name), status);
  }

  /** Local mode has no API server: the new replica count overrides the file's until the file's
   * `replicas` is edited (as a hand edit wins on an API server). Delivered on the next tick: a decision taken while an object is being delivered (a bounds
   * correction) must not start a second delivery inside the first. */
  async scale(
    kind: 'Model' | 'Server',
    namespace: string,
    name: string,
    replicas: number,
  ): Promise<ScaleOutcome> {
    const k = key(kind, namespace, name);
    this.replicas.set(k, { over: declaredReplicas(this.fileObject(k)), replicas });
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.deliver(true);
    return 'scaled';
  }

  private fileObject(k: string): MlopsResource | undefined {
    for (const { objects } of this.files.values()) {
      const o = objects.find((x) => key(x.kind, x.metadata.namespace ?? '', x.metadata.name) === k);
      if (o) return o;
    }
    return undefined;
  }

  /** Re-reads changed files and delivers the differences. */
  refresh(): void {
    let changed = false;
    const seen = new Set<string>();
    for (const file of yamlFiles(this.dir)) {
      seen.add(file);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue;
      }
      if (this.files.get(file)?.text === text) continue;
      changed = true;
      const objects = this.parse(file, text);
      this.files.set(file, { text, objects: objects ?? this.files.get(file)?.objects ?? [] });
    }
    for (const file of [...this.files.keys()]) {
      if (!seen.has(file)) {
        this.files.delete(file);
        changed = true;
      }
    }
    if (changed) this.deliver(false);
  }

  private parse(file: string, text: string): MlopsResource[] | undefined {
    const out: MlopsResource[] = [];
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) {
        this.log.error(
          { file: relative(this.dir, file), error: doc.errors[0].message },
          'manifest does not parse; keeping its previous objects',
        );
        return undefined;
      }
      const obj = doc.toJS() as MlopsResource | null;
      if (!obj || obj.apiVersion !== API_VERSION || !WATCHED_KINDS.includes(obj.kind as WatchedKind))
        continue;
      if (!obj.metadata?.name) {
        this.log.error(
          { file: relative(this.dir, file), kind: obj.kind },
          'object without metadata.name ignored',
        );
        continue;
      }
      out.push(obj);
    }
    return out;
  }

  private deliver(force: boolean): void {
    const handler = this.handler;
    if (!handler) return;
    const current = new Map<string, MlopsResource>();
    for (const { objects } of this.files.values()) {
      for (const o of objects) {
        const k = key(o.kind, o.metadata.namespace ?? '', o.metadata.name);
        const scaled = this.replicas.get(k);
        if (scaled && scaled.over !== declaredReplicas(o)) this.replicas.delete(k);
        const spec = scaled && this.replicas.has(k) ? { ...o.spec, replicas: scaled.replicas } : o.spec;
        current.set(k, { ...o, spec } as MlopsResource);
      }
    }
    const next = new Map<string, string>();
    // Servers first, so models placed in the same pass see them.
    const rank = (k: string) => DELIVERY_ORDER.indexOf(k.split('/')[0] as WatchedKind);
    for (const k of [...current.keys()].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1))) {
      const o = current.get(k) as MlopsResource;
      const text = JSON.stringify(o);
      next.set(k, text);
      if (force || this.delivered.get(k) !== text) handler.upsert(o);
    }
    for (const k of this.delivered.keys()) {
      if (next.has(k)) continue;
      const [kind, namespace, name] = k.split('/');
      handler.remove(kind as WatchedKind, namespace, name);
    }
    this.delivered = next;
  }
}

function declaredReplicas(o: MlopsResource | undefined): number | undefined {
  return (o?.spec as { replicas?: number } | undefined)?.replicas;
}

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries.sort()) {
    const p = join(dir, e);
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(e)) out.push(p);
  }
  return out;
}
