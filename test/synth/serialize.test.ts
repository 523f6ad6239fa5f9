import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { canonicalize, toYaml } from '../../src/synth/serialize.ts';

describe('canonicalize', () => {
  it('puts apiVersion, kind, metadata, spec first and sorts everything else', () => {
    const out = canonicalize({
      status: {},
      spec: { z: 1, a: { y: 2, b: 3 } },
      data: 1,
      metadata: { labels: { b: '1', a: '2' }, namespace: 'ns', name: 'n', annotations: {} },
      kind: 'Model',
      apiVersion: 'v1',
    });
    expect(Object.keys(out)).toEqual(['apiVersion', 'kind', 'metadata', 'spec', 'data', 'status']);
    expect(Object.keys(out.metadata as object)).toEqual(['name', 'namespace', 'annotations', 'labels']);
    expect(Object.keys((out.metadata as { labels: object }).labels)).toEqual(['a', 'b']);
    expect(Object.keys(out.spec as object)).toEqual(['a', 'z']);
    expect(Object.keys((out.spec as { a: object }).a)).toEqual(['b', 'y']);
  });

  it('drops null and undefined map values but keeps array order and falsy values', () => {
    const out = canonicalize({
      apiVersion: 'v1',
      kind: 'K',
      spec: { a: null, b: undefined, c: 0, d: false, e: ['z', 'a'] },
    });
    expect(out.spec).toEqual({ c: 0, d: false, e: ['z', 'a'] });
  });

  it('never changes its input, and reuses parts that are already in order', () => {
    const spec = { a: 1, b: { c: [1, { d: 2 }] } };
    const manifest = { kind: 'K', apiVersion: 'v1', metadata: { namespace: 'ns', name: 'n' }, spec };
    const before = JSON.stringify(manifest);
    const out = canonicalize(manifest);
    expect(JSON.stringify(manifest)).toBe(before);
    expect(out).not.toBe(manifest);
    expect(out.spec).toBe(spec);
    const again = canonicalize(out);
    expect(again).toBe(out);
  });

  it('orders keys only by name, whatever order they were added in', () => {
    const entries = fc.uniqueArray(fc.tuple(fc.string({ minLength: 1 }), fc.integer()), {
      selector: ([k]) => k,
      maxLength: 12,
    });
    fc.assert(
      fc.property(entries, (pairs) => {
        const forward = Object.fromEntries(pairs);
        const backward = Object.fromEntries([...pairs].reverse());
        const a = toYaml({ apiVersion: 'v1', kind: 'K', metadata: { name: 'x' }, spec: forward });
        const b = toYaml({ apiVersion: 'v1', kind: 'K', metadata: { name: 'x' }, spec: backward });
        expect(a).toBe(b);
      }),
    );
  });
});

describe('toYaml', () => {
  it('quotes strings that YAML 1.1 readers would take for booleans, octals or dates', () => {
    const text = toYaml({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c' },
      data: { a: 'on', b: '0755', c: '2024-01-01', d: 'yes' },
    });
    expect(text).toContain('a: "on"');
    expect(text).toContain('b: "0755"');
    expect(text).toContain('c: "2024-01-01"');
    expect(text).toContain('d: "yes"');
    expect(parse(text, { version: '1.1' }).data).toEqual({ a: 'on', b: '0755', c: '2024-01-01', d: 'yes' });
  });

  it('never folds long lines and never writes anchors for repeated objects', () => {
    const shared = { key: 'value' };
    const long = 'x'.repeat(300);
    const text = toYaml({
      apiVersion: 'v1',
      kind: 'K',
      metadata: { name: 'n' },
      spec: { one: shared, two: shared, long },
    });
    expect(text).not.toMatch(/[&*]a\d/);
    expect(text).toContain(`long: ${long}\n`);
  });

  it('separates documents with ---', () => {
    const text = toYaml(
      { apiVersion: 'v1', kind: 'A', metadata: { name: 'a' } },
      { apiVersion: 'v1', kind: 'B', metadata: { name: 'b' } },
    );
    expect(text).toBe(
      'apiVersion: v1\nkind: A\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: B\nmetadata:\n  name: b\n',
    );
  });
});

describe('unusual keys', () => {
  it('keeps a literal __proto__ key as data', () => {
    const spec = JSON.parse('{"__proto__": {"a": 1}, "b": 2}');
    const text = toYaml({ apiVersion: 'v1', kind: 'K', metadata: { name: 'n' }, spec });
    expect(text).toContain('__proto__:\n    a: 1\n');
  });
});
