import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryLru } from '../../../src/runtime/agent/lru.ts';

function load(lru: MemoryLru, name: string): string[] {
  const plan = lru.makeRoom(name);
  if (!plan.ok) throw new Error(plan.reason);
  for (const v of plan.evict) lru.markEvicted(v);
  lru.markLoaded(name);
  return plan.evict;
}

describe('MemoryLru', () => {
  it('evicts the least recently used model first', () => {
    let t = 0;
    const lru = new MemoryLru({ capacityBytes: 200, now: () => t++ });
    for (const m of ['a', 'b', 'c']) lru.register(m, 100);
    expect(load(lru, 'a')).toEqual([]);
    expect(load(lru, 'b')).toEqual([]);
    lru.touch('a');
    expect(load(lru, 'c')).toEqual(['b']);
    expect(lru.usedBytes).toBe(200);
    expect(lru.get('b')?.inMemory).toBe(false);
    expect(load(lru, 'b')).toEqual(['a']);
  });

  it('evicts several small models for a big one', () => {
    const lru = new MemoryLru({ capacityBytes: 100 });
    for (const [m, b] of [
      ['a', 30],
      ['b', 30],
      ['c', 30],
      ['big', 80],
    ] as const)
      lru.register(m, b);
    load(lru, 'a');
    load(lru, 'b');
    load(lru, 'c');
    expect(load(lru, 'big')).toEqual(['a', 'b', 'c']);
  });

  it('never evicts a model with requests in flight', () => {
    const lru = new MemoryLru({ capacityBytes: 100 });
    lru.register('a', 100);
    lru.register('b', 100);
    load(lru, 'a');
    lru.acquire('a');
    const plan = lru.makeRoom('b');
    expect(plan.ok).toBe(false);
    lru.release('a');
    expect(lru.makeRoom('b')).toEqual({ ok: true, evict: ['a'] });
  });

  it('anti-thrash: a just-loaded model is kept for minResidencyMs and the caller told when to retry', () => {
    let t = 1000;
    const lru = new MemoryLru({ capacityBytes: 100, minResidencyMs: 500, now: () => t });
    lru.register('a', 100);
    lru.register('b', 100);
    load(lru, 'a');
    t += 200;
    const plan = lru.makeRoom('b');
    expect(plan).toMatchObject({ ok: false, retryAfterMs: 300 });
    t += 300;
    expect(lru.makeRoom('b')).toEqual({ ok: true, evict: ['a'] });
  });

  it('refuses a model larger than the whole memory', () => {
    const lru = new MemoryLru({ capacityBytes: 10 });
    lru.register('x', 11);
    expect(lru.makeRoom('x')).toMatchObject({ ok: false, reason: expect.stringContaining('more than') });
  });

  it('property: memory never exceeds capacity and the in-memory set is consistent', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 200 }), (seq) => {
        const lru = new MemoryLru({ capacityBytes: 100 });
        const sizes = [10, 20, 30, 40, 50, 10, 20, 30, 40, 50];
        for (const [i, s] of sizes.entries()) lru.register(`m${i}`, s);
        for (const i of seq) {
          const name = `m${i}`;
          if (!lru.get(name)?.inMemory) load(lru, name);
          lru.touch(name);
          const used = lru
            .list()
            .filter((e) => e.inMemory)
            .reduce((a, e) => a + e.bytes, 0);
          if (used !== lru.usedBytes || used > 100 || !lru.get(name)?.inMemory) return false;
        }
        return true;
      }),
    );
  });
});
