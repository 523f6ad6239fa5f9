import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareManifests } from '../../src/review/diff/compare.ts';
import { renderJson, renderMarkdown, renderText } from '../../src/review/diff/render-diff.ts';
import { loadManifests, parseManifests } from '../../src/review/manifests.ts';
import { expectGolden, fixtures } from './golden.ts';

const y = (text: string) => parseManifests(text, 'inline.yaml');
const model = (name: string, spec: string, ns = 'serving') =>
  `apiVersion: mlops.seldon.io/v1alpha1\nkind: Model\nmetadata: {name: ${name}, namespace: ${ns}}\nspec: ${spec}\n---\n`;

describe('compareManifests', () => {
  it('matches by identity: moving objects between files and reordering keys is no change', () => {
    const a = y(model('a', '{storageUri: s3://x, memory: 1Mi}') + model('b', '{storageUri: s3://y}'));
    const b = [
      ...y(model('b', '{storageUri: s3://y}')),
      ...parseManifests(model('a', '{memory: 1Mi, storageUri: s3://x}'), 'other.yaml'),
    ];
    const r = compareManifests(a, b);
    expect(r.objects).toEqual([]);
    expect(r.summary).toEqual({ added: 0, changed: 0, removed: 0, replaced: 0, unchanged: 2 });
  });

  it('treats the same name in another namespace or group as another object', () => {
    const r = compareManifests(
      y(model('a', '{storageUri: x}', 'one')),
      y(model('a', '{storageUri: x}', 'two')),
    );
    expect(r.objects.map((o) => [o.status, o.id.namespace])).toEqual([
      ['removed', 'one'],
      ['added', 'two'],
    ]);
  });

  it('ignores server-populated fields', () => {
    const live = y(
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, uid: u1, resourceVersion: "7", creationTimestamp: "2026-01-01T00:00:00Z", managedFields: [{manager: x}]}\ndata: {k: v}\nstatus: {x: 1}\n',
    );
    const desired = y('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: v}\n');
    expect(compareManifests(live, desired).objects).toEqual([]);
  });

  it('never carries secret values, only sizes', () => {
    const secret = (data: string) => `apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {${data}}\n`;
    const r = compareManifests(
      y(secret('pw: aHVudGVyMg==')),
      y(secret('pw: c3VwZXItc2VjcmV0LXZhbHVl, user: YWRtaW4=')),
    );
    const out = renderText(r) + renderMarkdown(r) + renderJson(r);
    for (const leaked of ['aHVudGVyMg', 'c3VwZXIt', 'YWRtaW4', 'hunter2', 'super-secret', 'admin']) {
      expect(out).not.toContain(leaked);
    }
    expect(r.objects[0].changes).toEqual([
      { path: 'data.pw', op: 'change', before: '<secret: 7 bytes>', after: '<secret: 18 bytes>' },
      { path: 'data.user', op: 'add', after: '<secret: 5 bytes>' },
    ]);
    const added = compareManifests([], y(secret('pw: aHVudGVyMg==')));
    expect(renderMarkdown(added)).toContain('<secret: 7 bytes>');
    expect(renderMarkdown(added)).not.toContain('aHVudGVyMg');
    expect(renderJson(added)).toContain('<secret: 7 bytes>');
    expect(renderJson(added)).not.toContain('aHVudGVyMg');
  });

  it('counts stringData by its UTF-8 size', () => {
    const s = (v: string) =>
      `apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {token: "${v}"}\n`;
    const r = compareManifests(y(s('abc')), y(s('é')));
    expect(r.objects[0].changes[0]).toMatchObject({
      before: '<secret: 3 bytes>',
      after: '<secret: 2 bytes>',
    });
  });

  it('flags a rename as delete + create with a warning on both sides', () => {
    const r = compareManifests(
      y(model('old', '{storageUri: s3://m}')),
      y(model('new', '{storageUri: s3://m}')),
    );
    expect(r.summary).toMatchObject({ added: 1, removed: 1 });
    for (const o of r.objects)
      expect(o.warnings).toEqual([expect.stringContaining('rename Model serving/old → new')]);
    expect(renderMarkdown(r).match(/> :warning: rename/g)).toHaveLength(1);
  });

  it('does not call two different objects a rename', () => {
    const r = compareManifests(
      y(model('old', '{storageUri: s3://m}')),
      y(model('new', '{storageUri: s3://other}')),
    );
    expect(r.objects.flatMap((o) => o.warnings)).toEqual([]);
  });

  it('marks changes to immutable fields as replacements', () => {
    const dep = (app: string) =>
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {selector: {matchLabels: {app: ${app}}}}\n`;
    const r = compareManifests(y(dep('a')), y(dep('b')));
    expect(r.summary.replaced).toBe(1);
    expect(r.objects[0].warnings[0]).toContain('spec.selector.matchLabels.app cannot change in place');
  });

  it('warns when a stateful object is deleted', () => {
    const pvc = y('apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nspec: {}\n');
    expect(compareManifests(pvc, []).objects[0].warnings).toEqual([
      'deleting a PersistentVolumeClaim can lose data',
    ]);
  });

  it('keeps app folders apart: the same object in two apps is two objects', () => {
    const cm = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: ${v}}\n`;
    const base = [
      ...parseManifests(cm('1'), 'prod/c.yaml', 'prod'),
      ...parseManifests(cm('1'), 'dev/c.yaml', 'dev'),
    ];
    const head = [
      ...parseManifests(cm('1'), 'prod/c.yaml', 'prod'),
      ...parseManifests(cm('2'), 'dev/c.yaml', 'dev'),
    ];
    const r = compareManifests(base, head);
    expect(r.objects.map((o) => [o.id.set, o.status])).toEqual([['dev', 'changed']]);
    expect(renderText(r)).toContain('~ [dev] ConfigMap c');
  });

  it('refuses a set that defines one object twice', () => {
    const twice = [
      ...y(model('a', '{storageUri: x}')),
      ...parseManifests(model('a', '{storageUri: y}'), 'b.yaml'),
    ];
    expect(() => compareManifests(twice, [])).toThrow(/Model a is defined twice \(inline.yaml and b.yaml\)/);
  });
});

describe('diff renderers (golden)', () => {
  const base = loadManifests([join(fixtures, 'diff/base')]);
  const head = loadManifests([join(fixtures, 'diff/head')]);
  const result = compareManifests(base, head);

  it('text', () => expectGolden('diff.txt', renderText(result)));
  it('markdown', () => expectGolden('diff.md', renderMarkdown(result, { title: 'prod' })));
  it('json', () => expectGolden('diff.json', renderJson(result)));

  it('markdown stays under the cap and says what it left out', () => {
    const md = renderMarkdown(result, { maxChars: 2500 });
    expect(md.length).toBeLessThanOrEqual(2500);
    expect(md).toMatch(/_…\d+ more objects? not shown/);
    // Never cut inside a fenced block: fences are balanced.
    expect((md.match(/^```/gm) ?? []).length % 2).toBe(0);
    expect(md.split('<details>').length).toBe(md.split('</details>').length);
  });

  it('markdown for no differences', () => {
    expect(renderMarkdown(compareManifests(base, base))).toBe(
      '### 0 added · 0 changed · 0 replaced · 0 removed\n\nNo differences (9 objects unchanged).\n',
    );
  });
});
