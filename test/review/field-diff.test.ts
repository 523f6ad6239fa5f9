import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffValues, equal } from '../../src/review/diff/field-diff.ts';

describe('diffValues', () => {
  it('ignores map key order', () => {
    expect(diffValues({ a: 1, b: { c: 2, d: 3 } }, { b: { d: 3, c: 2 }, a: 1 })).toEqual([]);
  });

  it('reports added, removed and changed fields as dotted paths', () => {
    expect(diffValues({ spec: { a: 1, b: 2 } }, { spec: { a: 5, c: 3 } })).toEqual([
      { path: 'spec.a', op: 'change', before: 1, after: 5 },
      { path: 'spec.b', op: 'remove', before: 2 },
      { path: 'spec.c', op: 'add', after: 3 },
    ]);
  });

  it('matches list items by name, not position', () => {
    const before = {
      containers: [
        { name: 'a', image: 'x:1' },
        { name: 'b', image: 'y:1' },
      ],
    };
    const after = {
      containers: [
        { name: 'b', image: 'y:2' },
        { name: 'a', image: 'x:1' },
      ],
    };
    expect(diffValues(before, after)).toEqual([
      { path: 'containers[name=b].image', op: 'change', before: 'y:1', after: 'y:2' },
    ]);
  });

  it('shows a keyed item that appears or disappears whole', () => {
    const changes = diffValues({ env: [{ name: 'A', value: '1' }] }, { env: [{ name: 'B', value: '1' }] });
    expect(changes).toEqual([
      { path: 'env[name=B]', op: 'add', after: { name: 'B', value: '1' } },
      { path: 'env[name=A]', op: 'remove', before: { name: 'A', value: '1' } },
    ]);
  });

  it('falls back to other natural keys (mountPath, containerPort)', () => {
    const changes = diffValues(
      { m: [{ mountPath: '/a', readOnly: true }, { mountPath: '/b' }] },
      { m: [{ mountPath: '/b' }, { mountPath: '/a', readOnly: false }] },
    );
    expect(changes.map((c) => c.path)).toEqual(['m[mountPath=/a].readOnly']);
  });

  it('matches volume claim templates by metadata.name', () => {
    const vct = (size: string) => [
      { metadata: { name: 'data' }, spec: { size } },
      { metadata: { name: 'logs' }, spec: { size: '1' } },
    ];
    expect(diffValues({ v: vct('1') }, { v: [...vct('5')].reverse() })).toEqual([
      { path: 'v[metadata.name=data].spec.size', op: 'change', before: '1', after: '5' },
    ]);
  });

  it('compares scalar lists as a whole and quotes odd keys', () => {
    expect(diffValues({ args: ['a', 'b'] }, { args: ['b', 'a'] })).toEqual([
      { path: 'args', op: 'change', before: ['a', 'b'], after: ['b', 'a'] },
    ]);
    expect(diffValues({ 'app.kubernetes.io/name': 'x' }, { 'app.kubernetes.io/name': 'y' })[0].path).toBe(
      '["app.kubernetes.io/name"]',
    );
  });

  it('finds no change exactly when the values are deeply equal', () => {
    const json = fc.jsonValue();
    fc.assert(
      fc.property(json, json, (a, b) => {
        expect(diffValues(a, b).length === 0).toBe(equal(a, b) || keyedEqual(a, b));
      }),
      { numRuns: 300 },
    );
    fc.assert(fc.property(json, (a) => diffValues(a, structuredClone(a)).length === 0));
  });
});

// Keyed lists ignore order, so [{name:a},{name:b}] equals its reverse for diffValues but not for equal.
function keyedEqual(a: unknown, b: unknown): boolean {
  const canon = (v: unknown): unknown => {
    if (Array.isArray(v)) {
      const items = v.map(canon);
      const named = items.every((x) => x && typeof x === 'object' && !Array.isArray(x) && 'name' in x);
      return named ? [...items].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))) : items;
    }
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v)
          .sort(([x], [y]) => x.localeCompare(y))
          .map(([k, x]) => [k, canon(x)]),
      );
    }
    return v;
  };
  return JSON.stringify(canon(a)) === JSON.stringify(canon(b));
}
