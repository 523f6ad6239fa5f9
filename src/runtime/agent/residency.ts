/**
 * Which registered models are in the inference server's memory, and which to evict to make room.
 *
 * Models are registered (on disk, known to the scheduler) up to capacity × (1 + over-commit); only
 * `capacityBytes` of them fit in memory at once. When room is needed the victims are the resident
 * models with the fewest recent requests per byte ("decayed LFU per byte", the Greedy-Dual-Size-
 * Frequency idea without its cost term):
 *
 * - every request adds 1 to the model's score and all scores halve every `halfLifeRequests`
 *   requests (default: twice the number of registered models, so a model of average popularity is
 *   seen about twice per half-life and a shift of the hot set is followed within a few of them);
 * - the score is divided by the model's bytes, because freeing memory for one large, rarely used
 *   model keeps several small ones resident (more requests served from memory);
 * - ties (e.g. models never requested) go to the least recently used.
 *
 * Plain LRU evicts a popular model after any burst of one-off requests; under skewed (Zipf)
 * traffic this policy keeps the popular ones and serves far more requests from memory (see the
 * placement benchmark). The agent knows every registered model, so scores survive an eviction
 * without the sketch a web cache would need.
 *
 * Anti-thrash: a model is not evicted while requests are in flight on it, nor within
 * `minResidencyMs` of being loaded; when nothing else can go, `makeRoom` says how long to wait
 * instead of evicting a model that was just brought in (which would thrash).
 */
export interface ResidencyEntry {
  readonly name: string;
  readonly bytes: number;
  inMemory: boolean;
  loadedAt: number;
  lastUsed: number;
  inFlight: number;
  /** Decayed request count as of request number `scoredAt`. */
  score: number;
  scoredAt: number;
}

export type RoomPlan = { ok: true; evict: string[] } | { ok: false; retryAfterMs: number; reason: string };

export interface ResidencyOptions {
  capacityBytes: number;
  minResidencyMs?: number;
  /** Requests after which a score has halved; default twice the number of registered models. */
  halfLifeRequests?: number;
  now?: () => number;
}

export class ModelResidency {
  private readonly entries = new Map<string, ResidencyEntry>();
  private readonly resident = new Map<string, ResidencyEntry>();
  private readonly now: () => number;
  private readonly minResidencyMs: number;
  private readonly halfLife?: number;
  /** Requests seen so far: the clock scores decay with (independent of the request rate). */
  private requests = 0;
  readonly capacityBytes: number;
  usedBytes = 0;

  constructor(opts: ResidencyOptions) {
    if (opts.halfLifeRequests !== undefined && !(opts.halfLifeRequests > 0))
      throw new Error(`halfLifeRequests must be positive, got ${opts.halfLifeRequests}`);
    this.capacityBytes = opts.capacityBytes;
    this.minResidencyMs = opts.minResidencyMs ?? 0;
    this.halfLife = opts.halfLifeRequests;
    this.now = opts.now ?? Date.now;
  }

  get(name: string): ResidencyEntry | undefined {
    return this.entries.get(name);
  }

  /** Registered models, least recently used first. */
  list(): ResidencyEntry[] {
    return [...this.entries.values()].sort((a, b) => a.lastUsed - b.lastUsed || (a.name < b.name ? -1 : 1));
  }

  register(name: string, bytes: number): ResidencyEntry {
    const existing = this.entries.get(name);
    if (existing) return existing;
    const e: ResidencyEntry = {
      name,
      bytes,
      inMemory: false,
      loadedAt: 0,
      lastUsed: this.now(),
      inFlight: 0,
      score: 0,
      scoredAt: this.requests,
    };
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

  /** Marks a request for the model: raises its score and makes it the most recently used. */
  touch(name: string): void {
    const e = this.entries.get(name);
    if (!e) return;
    this.requests++;
    e.score = this.scoreOf(e) + 1;
    e.scoredAt = this.requests;
    e.lastUsed = this.now();
    if (!e.inMemory) return;
    // Map order is recency order, the tie-break between equal scores.
    this.resident.delete(name);
    this.resident.set(name, e);
  }

  /** The model's decayed request count now. */
  scoreOf(e: ResidencyEntry): number {
    const halfLife = this.halfLife ?? Math.max(1, 2 * this.entries.size);
    return e.score * 2 ** (-(this.requests - e.scoredAt) / halfLife);
  }

  /** Models to evict (fewest recent requests per byte first) so `name` fits in memory. */
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
    if (free >= target.bytes) return { ok: true, evict: [] };
    const now = this.now();
    let soonest = Number.POSITIVE_INFINITY;
    const candidates: { e: ResidencyEntry; density: number; recency: number }[] = [];
    let recency = 0;
    for (const e of this.resident.values()) {
      recency++;
      if (e.inFlight > 0) continue;
      const age = now - e.loadedAt;
      if (age < this.minResidencyMs) {
        soonest = Math.min(soonest, this.minResidencyMs - age);
        continue;
      }
      candidates.push({ e, density: this.scoreOf(e) / Math.max(1, e.bytes), recency });
    }
    candidates.sort((a, b) => a.density - b.density || a.recency - b.recency);
    const chosen: ResidencyEntry[] = [];
    for (const c of candidates) {
      if (free >= target.bytes) break;
      chosen.push(c.e);
      free += c.e.bytes;
    }
    if (free >= target.bytes) {
      // Spare the victims whose memory turned out not to be needed (a large one taken last can
      // make the small ones before it unnecessary), most valuable first.
      for (let i = chosen.length - 1; i >= 0; i--) {
        if (free - chosen[i].bytes < target.bytes) continue;
        free -= chosen[i].bytes;
        chosen.splice(i, 1);
      }
      return { ok: true, evict: chosen.map((e) => e.name) };
    }
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
