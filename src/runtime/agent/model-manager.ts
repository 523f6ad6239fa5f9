import type { Logger } from 'pino';
import type { ModelDefinition } from '../protocol/control.ts';
import { internalModelName } from '../protocol/control.ts';
import type { ArtifactCache } from './artifacts.ts';
import type { AgentMetrics } from './metrics.ts';
import type { ModelServer } from './repository-client.ts';
import { ModelResidency } from './residency.ts';

export interface ModelManagerOptions {
  cache: ArtifactCache;
  server: ModelServer;
  metrics: AgentMetrics;
  log: Logger;
  /** Memory of the inference server (what fits at once). */
  memoryBytes: number;
  /** Anti-thrash: a model stays in memory at least this long after a load. */
  minResidencyMs?: number;
  /** How long a request waits for room before it fails. */
  reloadTimeoutMs?: number;
  /** Pause between removing a model from routes and unloading it (in-flight requests finish). */
  unloadGraceMs?: number;
  now?: () => number;
}

/**
 * The models registered on this replica: prepares artifacts, loads and unloads them on the
 * inference server, and keeps at most `memoryBytes` of them in memory by evicting those with the
 * fewest recent requests per byte (they stay registered and come back on the next request).
 *
 * Every server-side change runs under one lock: loads, evictions and reloads never interleave,
 * so the memory accounting always matches the server.
 */
export class ModelManager {
  /** Which models are in memory and which to evict (see residency.ts for the policy). */
  readonly lru: ModelResidency;
  private readonly defs = new Map<string, ModelDefinition>();
  private lock: Promise<unknown> = Promise.resolve();
  private readonly log: Logger;

  constructor(private readonly opts: ModelManagerOptions) {
    this.log = opts.log;
    this.lru = new ModelResidency({
      capacityBytes: opts.memoryBytes,
      minResidencyMs: opts.minResidencyMs ?? 1000,
      now: opts.now,
    });
    opts.metrics.capacityBytes.set(opts.memoryBytes);
    this.updateGauges();
  }

  /** Registered models (name `<model>_<version>` → definition). */
  registered(): ModelDefinition[] {
    return [...this.defs.values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : a.version - b.version,
    );
  }

  definition(internalName: string): ModelDefinition | undefined {
    return this.defs.get(internalName);
  }

  /** The newest registered version of `model`, for requests that name the model only. */
  latestOf(model: string): ModelDefinition | undefined {
    let best: ModelDefinition | undefined;
    for (const d of this.defs.values()) if (d.name === model && (!best || d.version > best.version)) best = d;
    return best;
  }

  /** Prepares the artifact, makes room and loads the model. Throws with the reason on failure. */
  async load(def: ModelDefinition): Promise<void> {
    const name = internalModelName(def.name, def.version);
    if (this.defs.has(name) && this.lru.get(name)?.inMemory) return;
    try {
      await this.opts.cache.prepare(def);
      this.defs.set(name, def);
      this.lru.register(name, def.memoryBytes);
      await this.bringIn(name);
      this.opts.metrics.loaded();
      this.log.info({ model: name, memoryBytes: def.memoryBytes }, 'model loaded');
    } catch (err) {
      this.opts.metrics.loads.inc({ result: 'failure' });
      this.forget(def);
      throw err;
    } finally {
      this.updateGauges();
    }
  }

  async unload(def: ModelDefinition): Promise<void> {
    const name = internalModelName(def.name, def.version);
    if (this.opts.unloadGraceMs) await sleep(this.opts.unloadGraceMs);
    try {
      await this.locked(async () => {
        if (this.lru.get(name)?.inMemory) await this.opts.server.unload(name);
      });
      this.opts.metrics.unloaded();
      this.log.info({ model: name }, 'model unloaded');
    } catch (err) {
      this.opts.metrics.unloads.inc({ result: 'failure' });
      throw err;
    } finally {
      this.forget(def);
      this.updateGauges();
    }
  }

  /**
   * Makes sure a registered model is in memory before a request goes to it (reloading it after an
   * eviction) and counts the request as in flight until `release`. False if it is not registered.
   */
  async acquire(name: string): Promise<boolean> {
    const entry = this.lru.get(name);
    if (!entry) return false;
    this.lru.acquire(name);
    try {
      if (!entry.inMemory) await this.reload(name);
      this.lru.touch(name);
      return true;
    } catch (err) {
      this.lru.release(name);
      throw err;
    }
  }

  /**
   * The server lost a model it should hold (it restarted) while a request holds it: loads it
   * again. The request stays acquired and is not counted a second time.
   */
  async reloadLost(name: string): Promise<void> {
    const entry = this.lru.get(name);
    if (!entry) return;
    if (entry.inMemory) {
      this.lru.markEvicted(name);
      await this.reload(name);
    } else {
      // Another request found it lost first and is loading it: wait for that.
      await this.bringIn(name);
    }
  }

  private async reload(name: string): Promise<void> {
    const started = performance.now();
    await this.bringIn(name);
    const seconds = (performance.now() - started) / 1000;
    this.opts.metrics.reloaded(seconds);
    this.log.info({ model: name, ms: Math.round(seconds * 1000) }, 'evicted model reloaded');
    this.updateGauges();
  }

  release(name: string): void {
    this.lru.release(name);
  }

  /** Loads `name` onto the server, evicting the models `makeRoom` picks first. */
  private bringIn(name: string): Promise<void> {
    return this.locked(async () => {
      const deadline = performance.now() + (this.opts.reloadTimeoutMs ?? 30_000);
      for (;;) {
        const entry = this.lru.get(name);
        if (!entry) throw new Error(`model ${name} was unloaded`);
        if (entry.inMemory) return;
        const plan = this.lru.makeRoom(name);
        if (plan.ok) {
          for (const victim of plan.evict) {
            await this.opts.server.unload(victim);
            this.lru.markEvicted(victim);
            this.opts.metrics.evicted();
            this.log.info({ model: victim, for: name }, 'model evicted');
          }
          await this.opts.server.load(name);
          this.lru.markLoaded(name);
          return;
        }
        if (plan.retryAfterMs === 0 || performance.now() + plan.retryAfterMs > deadline)
          throw new Error(plan.reason);
        await sleep(plan.retryAfterMs);
      }
    });
  }

  private forget(def: ModelDefinition): void {
    const name = internalModelName(def.name, def.version);
    this.lru.unregister(name);
    this.defs.delete(name);
    this.opts.cache.remove(def);
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private updateGauges(): void {
    const entries = this.lru.list();
    const m = this.opts.metrics;
    m.inMemoryBytes.set(this.lru.usedBytes);
    m.registeredBytes.set(entries.reduce((a, e) => a + e.bytes, 0));
    m.models.set({ state: 'in_memory' }, entries.filter((e) => e.inMemory).length);
    m.models.set({ state: 'evicted' }, entries.filter((e) => !e.inMemory).length);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
