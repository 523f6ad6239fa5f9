// Over-commit simulations for the placement benchmark: Zipf request traces, the agent's eviction
// policy, plain LRU, Belady's offline optimum and an upper bound for models of different sizes.
//
// Every policy counts a hit the same way: the model is in memory when its request arrives. On a
// miss, models are evicted until it fits and it is loaded (an inference server cannot answer for a
// model it has not loaded, so no policy may bypass the cache). Sizes and capacity share one unit.
import { ModelResidency } from '../src/runtime/agent/residency.ts';
import { seededRandom as rng } from '../test/support/seeded-random.ts';

export { rng };

/**
 * `requests` model ids in 0..n-1, the i-th most popular drawn with probability ∝ 1 / i^s. With
 * `reshuffleEvery`, popularity is re-dealt among the models every that many requests (the hot set
 * moves, as when traffic shifts between tenants).
 */
export function zipfTrace(
  n: number,
  s: number,
  requests: number,
  seed: number,
  reshuffleEvery = 0,
): Uint32Array {
  const r = rng(seed);
  const cdf = new Float64Array(n);
  let acc = 0;
  for (let i = 0; i < n; i++) {
    acc += 1 / (i + 1) ** s;
    cdf[i] = acc;
  }
  const modelOfRank = Uint32Array.from({ length: n }, (_, i) => i);
  const trace = new Uint32Array(requests);
  for (let q = 0; q < requests; q++) {
    if (reshuffleEvery > 0 && q > 0 && q % reshuffleEvery === 0) {
      for (let j = n - 1; j > 0; j--) {
        const k = Math.floor(r() * (j + 1));
        [modelOfRank[j], modelOfRank[k]] = [modelOfRank[k], modelOfRank[j]];
      }
    }
    const x = r() * acc;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    trace[q] = modelOfRank[lo];
  }
  return trace;
}

export interface Hits {
  /** Requests served from memory. */
  hits: number;
  /** Sum of the sizes of the models those requests went to. */
  hitBytes: number;
}

/** The agent's policy, through the agent's own class. */
export function residencyHits(trace: Uint32Array, sizes: ArrayLike<number>, capacity: number): Hits {
  let t = 0;
  const cache = new ModelResidency({ capacityBytes: capacity, now: () => t });
  for (let id = 0; id < sizes.length; id++) cache.register(String(id), sizes[id]);
  let hits = 0;
  let hitBytes = 0;
  for (const id of trace) {
    t++;
    const name = String(id);
    if (cache.get(name)?.inMemory) {
      hits++;
      hitBytes += sizes[id];
    } else {
      const plan = cache.makeRoom(name);
      if (!plan.ok) throw new Error(plan.reason);
      for (const v of plan.evict) cache.markEvicted(v);
      cache.markLoaded(name);
    }
    cache.touch(name);
  }
  return { hits, hitBytes };
}

/** Plain LRU: evict the least recently requested models until the new one fits. */
export function lruHits(trace: Uint32Array, sizes: ArrayLike<number>, capacity: number): Hits {
  const resident = new Map<number, true>(); // insertion order = recency order
  let used = 0;
  let hits = 0;
  let hitBytes = 0;
  for (const id of trace) {
    if (resident.delete(id)) {
      hits++;
      hitBytes += sizes[id];
    } else {
      while (used + sizes[id] > capacity) {
        const victim = resident.keys().next().value as number;
        resident.delete(victim);
        used -= sizes[victim];
      }
      used += sizes[id];
    }
    resident.set(id, true);
  }
  return { hits, hitBytes };
}

const NEVER = 0xffffffff;

/** For each request, the index of the next request for the same model (NEVER if none). */
function nextUses(trace: Uint32Array): Uint32Array {
  const next = new Uint32Array(trace.length);
  const seen = new Map<number, number>();
  for (let i = trace.length - 1; i >= 0; i--) {
    next[i] = seen.get(trace[i]) ?? NEVER;
    seen.set(trace[i], i);
  }
  return next;
}

/**
 * Belady's MIN: on a miss, evict the resident model whose next request is farthest away. With
 * equal sizes this is the offline optimum. With different sizes (evicting farthest-first until the
 * model fits) it is only a heuristic — a feasible schedule, so a lower bound on the optimum; see
 * `upperBoundHits` for the other side.
 */
export function beladyHits(trace: Uint32Array, sizes: ArrayLike<number>, capacity: number): Hits {
  const next = nextUses(trace);
  const nextUse = new Map<number, number>();
  // Max-heap of [next use, model] with lazy deletion (stale pairs are skipped when popped).
  const heap: [number, number][] = [];
  const push = (v: [number, number]) => {
    heap.push(v);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p][0] >= heap[i][0]) break;
      [heap[p], heap[i]] = [heap[i], heap[p]];
      i = p;
    }
  };
  const pop = (): [number, number] => {
    const top = heap[0];
    const last = heap.pop() as [number, number];
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && heap[l][0] > heap[m][0]) m = l;
        if (r < heap.length && heap[r][0] > heap[m][0]) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i], heap[m]];
        i = m;
      }
    }
    return top;
  };
  let used = 0;
  let hits = 0;
  let hitBytes = 0;
  for (let i = 0; i < trace.length; i++) {
    const id = trace[i];
    if (nextUse.has(id)) {
      hits++;
      hitBytes += sizes[id];
    } else {
      while (used + sizes[id] > capacity) {
        const [nu, victim] = pop();
        if (nextUse.get(victim) !== nu) continue;
        nextUse.delete(victim);
        used -= sizes[victim];
      }
      used += sizes[id];
    }
    nextUse.set(id, next[i]);
    push([next[i], id]);
  }
  return { hits, hitBytes };
}

/**
 * An upper bound on the hits of any schedule, for models of different sizes (PFOO-U, Berger et
 * al., "Practical Bounds on Optimal Caching with Variable Object Sizes", 2018). A hit on request j
 * needs its model kept in memory since the previous request i for it, which costs size × (j − i)
 * of memory-time; memory-time in all is capacity × trace length. Keeping only that total (not the
 * limit at every instant) and taking the cheapest intervals first, fractionally for the last one,
 * gives at least as many hits as the optimum.
 */
export function upperBoundHits(trace: Uint32Array, sizes: ArrayLike<number>, capacity: number): number {
  const next = nextUses(trace);
  const costs: number[] = [];
  for (let i = 0; i < trace.length; i++) if (next[i] !== NEVER) costs.push(sizes[trace[i]] * (next[i] - i));
  costs.sort((a, b) => a - b);
  let budget = capacity * trace.length;
  let hits = 0;
  for (const c of costs) {
    if (c > budget) return hits + budget / c;
    budget -= c;
    hits++;
  }
  return hits;
}
