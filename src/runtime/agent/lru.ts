/**
 * Which registered models are in the inference server's memory, and which to evict to make room.
 *
 * Models are registered (on disk, known to the scheduler) up to capacity × (1 + over-commit); only
 * `capacityBytes` of them fit in memory at once. The resident models sit in a `Map` whose insertion
 * order is the recency order: touching one moves it to the end, so the first evictable entry is
 * the least recently used, and a victim search never walks over models that are not in memory.
 *
 * Anti-thrash: a model is not evicted while requests are in flight on it, nor within
 * `minResidencyMs` of being loaded; when nothing else can go, `makeRoom` says how long to wait
 * instead of evicting a model that was just brought in (which would thrash).
 */
export interface LruEntry {
  readonly name: string;
  readonly bytes: number;
  inMemory: boolean;
  loadedAt: number;
  lastUsed: number;
  inFlight: number;
}

export type RoomPlan = { ok: true; evict: string[] } | { ok: false; retryAfterMs: number; reason: string };

export interface LruOptions {
  capacityBytes: number;
  minResidencyMs?: number;
  now?: () => number;
}

export class MemoryLru {
  private readonly entries = new Map<string, LruEntry>();
  private readonly resident = new Map<string, LruEntry>();
  private readonly now: () => number;
  private readonly minResidencyMs: number;
  readonly capacityBytes: number;
  usedBytes = 0;

  constructor(opts: LruOptions) {
    this.capacityBytes = opts.capacityBytes;
    this.minResidencyMs = opts.minResidencyMs ?? 0;
    this.now = opts.now ?? Date.now;
  }

  get(name: string): LruEntry | undefined {
    return this.entries.get(name);
  }

  /** Registered models, least recently used first. */
  list(): LruEntry[] {
    return [...this.entries.values()].sort((a, b) => a.lastUsed - b.lastUsed || (a.name < b.name ? -1 : 1));
  }

  register(name: string, bytes: number): LruEntry {
    const existing = this.entries.get(name);
    if (existing) return existing;
    const e: LruEntry = { name, bytes, inMemory: false, loadedAt: 0, lastUsed: this.now(), inFlight: 0 };
    this.entries.set(name, e);
    return e;
  }

  unregister(name: string): void {
    const e = this.entries.get(name);
    if (!e) return;
    if (e.inMemory) this.usedBytes -= e.bytes;
    this.entries.delete(name);
    this.resident.delete(name);
  }

  /** Marks a use: moves the model to the most-recent end. */
  touch(name: string): void {
    const e = this.entries.get(name);
    if (!e) return;
    e.lastUsed = this.now();
    if (!e.inMemory) return;
    this.resident.delete(name);
    this.resident.set(name, e);
  }

  /** Models to evict (least recently used first) so `name` fits in memory. */
  makeRoom(name: string): RoomPlan {
    const target = this.entries.get(name);
    if (!target) return { ok: false, retryAfterMs: 0, reason: `model ${name} is not registered` };
    if (target.inMemory) return { ok: true, evict: [] };
    if (target.bytes > this.capacityBytes) {
      return {
        ok: false,
        retryAfterMs: 0,
        reason: `model ${name} needs ${target.bytes} bytes, more than the server's ${this.capacityBytes}`,
      };
    }
    let free = this.capacityBytes - this.usedBytes;
    const evict: string[] = [];
    const now = this.now();
    let soonest = Number.POSITIVE_INFINITY;
    for (const e of this.resident.values()) {
      if (free >= target.bytes) break;
      if (e.inFlight > 0) continue;
      const age = now - e.loadedAt;
      if (age < this.minResidencyMs) {
        soonest = Math.min(soonest, this.minResidencyMs - age);
        continue;
      }
      evict.push(e.name);
      free += e.bytes;
    }
    if (free >= target.bytes) return { ok: true, evict };
    return {
      ok: false,
      retryAfterMs: Number.isFinite(soonest) ? soonest : 50,
      reason: `not enough evictable memory for ${name} (${free} of ${target.bytes} bytes free or evictable)`,
    };
  }

  markLoaded(name: string): void {
    const e = this.entries.get(name);
    if (!e || e.inMemory) return;
    e.inMemory = true;
    e.loadedAt = this.now();
    e.lastUsed = e.loadedAt;
    this.usedBytes += e.bytes;
    this.resident.set(name, e);
  }

  markEvicted(name: string): void {
    const e = this.entries.get(name);
    if (!e?.inMemory) return;
    e.inMemory = false;
    this.usedBytes -= e.bytes;
    this.resident.delete(name);
  }

  acquire(name: string): void {
    const e = this.entries.get(name);
    if (e) e.inFlight++;
  }

  release(name: string): void {
    const e = this.entries.get(name);
    if (e && e.inFlight > 0) e.inFlight--;
  }
}
