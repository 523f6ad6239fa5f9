import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelResidency } from '../../../src/runtime/agent/residency.ts';

function load(cache: ModelResidency, name: string): string[] {
  const plan = cache.makeRoom(name);
  if (!plan.ok) throw new Error(plan.reason);
  for (const v of plan.evict) cache.markEvicted(v);
  cache.markLoaded(name);
  return plan.evict;
}

/** What the agent does for a request: bring the model in if needed, then count the request. */
function request(cache: ModelResidency, name: string): string[] {
  const evicted = cache.get(name)?.inMemory ? [] : load(cache, name);
  cache.touch(name);
  return evicted;
}

function registered(
  sizes: Record<string, number>,
  opts: { capacityBytes: number; halfLifeRequests?: number },
) {
  let t = 0;
  const cache = new ModelResidency({ ...opts, now: () => t++ });
  for (const [m, b] of Object.entries(sizes)) cache.register(m, b);
  return cache;
}

describe('ModelResidency', () => {
  it('without requests to tell them apart, evicts the least recently used first', () => {
    const cache = registered({ a: 100, b: 100, c: 100 }, { capacityBytes: 200 });
    expect(load(cache, 'a')).toEqual([]);
    expect(load(cache, 'b')).toEqual([]);
    expect(load(cache, 'c')).toEqual(['a']);
    expect(cache.usedBytes).toBe(200);
    expect(cache.get('a')?.inMemory).toBe(false);
  });

  it('evicts the model with fewer requests even when it was used more recently', () => {
    const cache = registered({ hot: 100, cold: 100, new: 100 }, { capacityBytes: 200 });
    for (let i = 0; i < 3; i++) request(cache, 'hot');
    request(cache, 'cold');
    expect(cache.list().map((e) => e.name)).toEqual(['new', 'hot', 'cold']);
    expect(request(cache, 'new')).toEqual(['cold']);
    // Now `new` has one request, `hot` three: `new` goes first.
    expect(request(cache, 'cold')).toEqual(['new']);
  });

  it('keeps a popular model through a scan of one-off requests (plain LRU would evict it)', () => {
    const names = ['hot', ...Array.from({ length: 8 }, (_, i) => `once${i}`)];
    const cache = registered(Object.fromEntries(names.map((n) => [n, 10])), { capacityBytes: 20 });
    for (let i = 0; i < 4; i++) request(cache, 'hot');
    for (const n of names.slice(1)) {
      expect(request(cache, n)).not.toContain('hot');
      expect(cache.get('hot')?.inMemory).toBe(true);
    }
  });

  it('scores decay: old popularity loses to recent requests after a few half-lives', () => {
    const cache = registered({ old: 10, recent: 10, other: 10 }, { capacityBytes: 20, halfLifeRequests: 2 });
    for (let i = 0; i < 4; i++) request(cache, 'old');
    for (let i = 0; i < 8; i++) request(cache, 'recent');
    const old = cache.get('old');
    const recent = cache.get('recent');
    if (!old || !recent) throw new Error('registered');
    // 4 requests one apart (each older one worth 2^-1/2 less), the last 8 requests (4 half-lives) ago.
    expect(cache.scoreOf(old)).toBeCloseTo((1 + 2 ** -0.5 + 2 ** -1 + 2 ** -1.5) / 16, 10);
    expect(cache.scoreOf(recent)).toBeGreaterThan(1.9);
    expect(request(cache, 'other')).toEqual(['old']);
  });

  it('the default half-life follows the number of registered models', () => {
    const cache = registered({ a: 10, b: 10 }, { capacityBytes: 20 });
    request(cache, 'a');
    request(cache, 'b');
    request(cache, 'b');
    const a = cache.get('a');
    if (!a) throw new Error('registered');
    // Two registered models: half-life 4 requests; `a` was requested 2 requests ago.
    expect(cache.scoreOf(a)).toBeCloseTo(2 ** -0.5, 10);
    for (let i = 0; i < 6; i++) cache.register(`x${i}`, 10);
    // Eight registered: half-life 16.
    expect(cache.scoreOf(a)).toBeCloseTo(2 ** (-2 / 16), 10);
  });

  it('is size-aware: with equal requests the larger model goes, and one request per byte decides', () => {
    const cache = registered({ big: 60, small: 30, next: 30 }, { capacityBytes: 90, halfLifeRequests: 1e9 });
    request(cache, 'small');
    request(cache, 'big'); // the most recently used, so the LRU tie-break alone would keep it
    expect(request(cache, 'next')).toEqual(['big']);
    const sized = registered({ big: 60, small: 30, next: 30 }, { capacityBytes: 90, halfLifeRequests: 1e9 });
    for (let i = 0; i < 3; i++) request(sized, 'big'); // 3 / 60 per byte
    request(sized, 'small'); // 1 / 30 per byte
    expect(request(sized, 'next')).toEqual(['small']);
  });

  it('ranks by decayed requests per byte: evicts the large model that plain frequency or LRU would keep', () => {
    const cache = registered({ big: 60, small: 20, next: 20 }, { capacityBytes: 80 });
    request(cache, 'small');
    request(cache, 'big');
    request(cache, 'big');
    const score = (name: string) => {
      const e = cache.get(name);
      if (!e) throw new Error('registered');
      return cache.scoreOf(e);
    };
    // Three registered models: half-life 6 requests. `big` has more requests and is the most
    // recently used, so counting requests (or recency) alone would evict `small`...
    expect(score('big')).toBeCloseTo(1 + 2 ** (-1 / 6), 10);
    expect(score('small')).toBeCloseTo(2 ** (-2 / 6), 10);
    expect(score('big')).toBeGreaterThan(score('small'));
    // ...but per byte `big` (about 0.032) is worth less than `small` (about 0.040).
    expect(score('big') / 60).toBeLessThan(score('small') / 20);
    expect(request(cache, 'next')).toEqual(['big']);
  });

  it('evicts several small models for a big one, and spares those a larger victim made unnecessary', () => {
    const cache = registered({ a: 30, b: 30, c: 30, big: 80 }, { capacityBytes: 100 });
    load(cache, 'a');
    load(cache, 'b');
    load(cache, 'c');
    expect(load(cache, 'big')).toEqual(['a', 'b', 'c']);

    const spare = registered(
      { tiny: 10, large: 80, want: 70 },
      { capacityBytes: 100, halfLifeRequests: 1e9 },
    );
    request(spare, 'tiny'); // 1 / 10 per byte: more valuable than `large`
    request(spare, 'large');
    request(spare, 'large'); // 2 / 80 per byte: first victim, and enough on its own
    expect(spare.makeRoom('want')).toEqual({ ok: true, evict: ['large'] });
    const zero = registered({ free: 0, large: 90, want: 70 }, { capacityBytes: 100 });
    load(zero, 'free');
    load(zero, 'large');
    // Evicting a model that takes no memory frees nothing.
    expect(zero.makeRoom('want')).toEqual({ ok: true, evict: ['large'] });
  });

  it('never evicts a model with requests in flight: the next candidate goes instead', () => {
    const cache = registered({ a: 100, b: 100, c: 100 }, { capacityBytes: 200 });
    request(cache, 'a');
    request(cache, 'b');
    request(cache, 'b');
    cache.acquire('a');
    expect(cache.makeRoom('c')).toEqual({ ok: true, evict: ['b'] });
    cache.acquire('b');
    expect(cache.makeRoom('c')).toMatchObject({ ok: false, reason: expect.stringContaining('not enough') });
    cache.release('a');
    expect(cache.makeRoom('c')).toEqual({ ok: true, evict: ['a'] });
  });

  it('anti-thrash: a just-loaded model is kept for minResidencyMs and the caller told when to retry', () => {
    let t = 1000;
    const cache = new ModelResidency({ capacityBytes: 100, minResidencyMs: 500, now: () => t });
    cache.register('a', 100);
    cache.register('b', 100);
    load(cache, 'a');
    t += 200;
    expect(cache.makeRoom('b')).toMatchObject({ ok: false, retryAfterMs: 300 });
    t += 300;
    expect(cache.makeRoom('b')).toEqual({ ok: true, evict: ['a'] });
  });

  it('an evicted model stays registered with its score and comes back on the next request', () => {
    const cache = registered({ a: 100, b: 100 }, { capacityBytes: 100, halfLifeRequests: 1e9 });
    request(cache, 'a');
    request(cache, 'a');
    expect(request(cache, 'b')).toEqual(['a']);
    const a = cache.get('a');
    expect(a?.inMemory).toBe(false);
    expect(a && cache.scoreOf(a)).toBeCloseTo(2, 6);
    // Reloaded, `a` (3 requests) now outranks `b` (1).
    expect(request(cache, 'a')).toEqual(['b']);
    expect(request(cache, 'b')).toEqual(['a']);
  });

  it('refuses a model larger than the whole memory, and a non-positive half-life', () => {
    const cache = new ModelResidency({ capacityBytes: 10 });
    cache.register('x', 11);
    expect(cache.makeRoom('x')).toMatchObject({ ok: false, reason: expect.stringContaining('more than') });
    expect(() => new ModelResidency({ capacityBytes: 10, halfLifeRequests: 0 })).toThrow(/halfLifeRequests/);
  });

  it('property: memory never exceeds capacity, the in-memory set is consistent, in-flight models stay', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.boolean()), { maxLength: 200 }),
        (seq) => {
          const cache = new ModelResidency({ capacityBytes: 100 });
          const sizes = [10, 20, 30, 40, 50, 10, 20, 30, 40, 50];
          for (const [i, s] of sizes.entries()) cache.register(`m${i}`, s);
          const held = new Set<string>();
          for (const [i, hold] of seq) {
            const name = `m${i}`;
            if (!cache.get(name)?.inMemory) {
              const plan = cache.makeRoom(name);
              if (!plan.ok) continue; // everything else is in flight
              if (plan.evict.some((v) => held.has(v) || v === name)) return false;
              for (const v of plan.evict) cache.markEvicted(v);
              cache.markLoaded(name);
            }
            cache.touch(name);
            if (hold && held.size < 2) {
              cache.acquire(name);
              held.add(name);
            } else if (held.size > 0) {
              const first = [...held][0];
              cache.release(first);
              held.delete(first);
            }
            const entries = cache.list();
            const used = entries.filter((e) => e.inMemory).reduce((a, e) => a + e.bytes, 0);
            if (entries.length !== 10 || used !== cache.usedBytes || used > 100) return false;
            if (!cache.get(name)?.inMemory) return false;
          }
          return true;
        },
      ),
    );
  });
});
