import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  beladyHits,
  lruHits,
  residencyHits,
  upperBoundHits,
  zipfTrace,
} from '../../../bench/over-commit-sim.ts';

/** The true optimum by exhaustive search over every eviction choice (tiny traces only). */
function optimum(trace: number[], sizes: number[], capacity: number): number {
  const sizeOf = (set: number) => sizes.reduce((a, s, i) => (set & (1 << i) ? a + s : a), 0);
  let states = new Map<number, number>([[0, 0]]); // resident set → best hits so far
  for (const id of trace) {
    const nextStates = new Map<number, number>();
    const keep = (set: number, hits: number) => {
      if ((nextStates.get(set) ?? -1) < hits) nextStates.set(set, hits);
    };
    for (const [set, hits] of states) {
      if (set & (1 << id)) {
        keep(set, hits + 1);
        continue;
      }
      // Any subset of the resident models may go, as long as the requested one then fits.
      for (let evict = set; ; evict = (evict - 1) & set) {
        const after = (set & ~evict) | (1 << id);
        if (sizeOf(after) <= capacity) keep(after, hits);
        if (evict === 0) break;
      }
    }
    states = nextStates;
  }
  return Math.max(...states.values());
}

const traceArb = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 14 });

describe('over-commit benchmark references', () => {
  it('Belady equals the exhaustive optimum when models have equal sizes', () => {
    fc.assert(
      fc.property(traceArb, fc.integer({ min: 1, max: 4 }), (trace, slots) => {
        const sizes = [1, 1, 1, 1, 1];
        const opt = optimum(trace, sizes, slots);
        const t = Uint32Array.from(trace);
        expect(beladyHits(t, sizes, slots).hits).toBe(opt);
        expect(lruHits(t, sizes, slots).hits).toBeLessThanOrEqual(opt);
        expect(residencyHits(t, sizes, slots).hits).toBeLessThanOrEqual(opt);
        expect(upperBoundHits(t, sizes, slots)).toBeGreaterThanOrEqual(opt);
      }),
    );
  });

  it('with different sizes, Belady-size is below the optimum and the PFOO-U bound above it', () => {
    fc.assert(
      fc.property(
        traceArb,
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 5, maxLength: 5 }),
        fc.integer({ min: 0, max: 6 }),
        (trace, sizes, extra) => {
          const capacity = Math.max(...sizes) + extra;
          const opt = optimum(trace, sizes, capacity);
          const t = Uint32Array.from(trace);
          expect(beladyHits(t, sizes, capacity).hits).toBeLessThanOrEqual(opt);
          expect(lruHits(t, sizes, capacity).hits).toBeLessThanOrEqual(opt);
          expect(residencyHits(t, sizes, capacity).hits).toBeLessThanOrEqual(opt);
          expect(upperBoundHits(t, sizes, capacity)).toBeGreaterThanOrEqual(opt - 1e-9);
        },
      ),
    );
  });

  it('Belady-size is not optimal with different sizes (why the bound is reported too)', () => {
    // At the request for 2, farthest-first evicts 0 (needed last), which is not enough room, then
    // 1 as well; evicting only 1 would have kept 0 for its later hit.
    const trace = [0, 1, 2, 1, 0];
    const sizes = [2, 3, 3];
    expect(optimum(trace, sizes, 5)).toBe(1);
    expect(beladyHits(Uint32Array.from(trace), sizes, 5).hits).toBe(0);
  });

  it('zipfTrace: skewed as asked, reproducible, and reshuffling moves the hot model', () => {
    const count = (t: Uint32Array) => {
      const c = new Array(20).fill(0);
      for (const id of t) c[id]++;
      return c;
    };
    const t = zipfTrace(20, 1, 20_000, 3);
    expect(zipfTrace(20, 1, 20_000, 3)).toEqual(t);
    const c = count(t);
    // P(rank 1) / P(rank 2) = 2 for s = 1.
    expect(c[0] / c[1]).toBeGreaterThan(1.7);
    expect(c[0] / c[1]).toBeLessThan(2.3);
    expect(c[0]).toBe(Math.max(...c));
    const moved = zipfTrace(20, 1, 20_000, 3, 10_000);
    const late = count(moved.subarray(10_000));
    expect(late.indexOf(Math.max(...late))).not.toBe(0);
  });
});
