import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadManifests, loadManifestsAtRef, parseManifests } from '../../src/review/manifests.ts';

const tmp = mkdtempSync(join(tmpdir(), 'review-manifests-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('parseManifests', () => {
  it('reads every document, skips empty ones and flattens Lists', () => {
    const text = [
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}',
      '',
      'apiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}',
    ].join('\n---\n');
    const ms = parseManifests(text, 'x.yaml');
    expect(ms.map((m) => [m.id.name, m.doc])).toEqual([
      ['a', 0],
      ['b', 2],
    ]);
  });

  it('names the file and document of bad input', () => {
    expect(() => parseManifests('a: [1', 'bad.yaml')).toThrow(/bad.yaml:1: document 1 is not valid YAML/);
    expect(() => parseManifests('kind: ConfigMap\nmetadata: {name: a}', 'f.yaml')).toThrow(
      /f.yaml: document 1 has no apiVersion\/kind/,
    );
    expect(() => parseManifests('---\napiVersion: v1\nkind: ConfigMap\n', 'f.yaml')).toThrow(
      /ConfigMap\) has no metadata.name/,
    );
    expect(() => parseManifests('- 1\n- 2', 'f.yaml')).toThrow(/not a Kubernetes object/);
  });
});

describe('loadManifests', () => {
  it('walks directories in sorted order, YAML and JSON, skipping hidden folders', () => {
    const dir = join(tmp, 'walk');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    mkdirSync(join(dir, '.git'), { recursive: true });
    writeFileSync(join(dir, 'b.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n');
    writeFileSync(join(dir, 'sub', 'a.yml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n');
    writeFileSync(join(dir, 'c.json'), '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}');
    writeFileSync(join(dir, '.git', 'x.yaml'), 'nope: [');
    writeFileSync(join(dir, 'README.md'), '# not a manifest');
    expect(loadManifests([dir]).map((m) => `${m.file}:${m.id.name}`)).toEqual([
      'b.yaml:b',
      'c.json:c',
      'sub/a.yml:a',
    ]);
  });

  it('reads the dist/<app>/ layout as one set per app folder', () => {
    const dir = join(tmp, 'dist');
    const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\n`;
    mkdirSync(join(dir, 'prod'), { recursive: true });
    mkdirSync(join(dir, 'staging'), { recursive: true });
    writeFileSync(join(dir, 'prod', 'cm.yaml'), cm('shared'));
    writeFileSync(join(dir, 'staging', 'cm.yaml'), cm('shared'));
    const ms = loadManifests([dir]);
    expect(ms.map((m) => [m.file, m.id.set])).toEqual([
      ['prod/cm.yaml', 'prod'],
      ['staging/cm.yaml', 'staging'],
    ]);
    // A file at the top level means one flat set.
    writeFileSync(join(dir, 'top.yaml'), cm('top'));
    expect(new Set(loadManifests([dir]).map((m) => m.id.set))).toEqual(new Set(['']));
    rmSync(join(dir, 'top.yaml'));
  });

  it('reports a missing path', () => {
    expect(() => loadManifests([join(tmp, 'nope')])).toThrow(/no such file or directory/);
  });
});

describe('loadManifestsAtRef', () => {
  it('reads the directory as committed at a ref, from a subfolder too', () => {
    const repo = join(tmp, 'repo');
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'pipe' }).toString();
    mkdirSync(join(repo, 'app', 'dist', 'x'), { recursive: true });
    git('init', '-q');
    writeFileSync(
      join(repo, 'app', 'dist', 'x', 'cm.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one}\ndata: {k: v1}\n',
    );
    git('add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'one');
    writeFileSync(
      join(repo, 'app', 'dist', 'x', 'cm.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one}\ndata: {k: v2}\n',
    );
    const atHead = loadManifestsAtRef('HEAD', 'dist', join(repo, 'app'));
    expect(atHead.map((m) => [m.file, m.object.data])).toEqual([['HEAD:x/cm.yaml', { k: 'v1' }]]);
    expect(() => loadManifestsAtRef('no-such-ref', 'dist', repo)).toThrow(/git rev-parse .*no-such-ref/);
  });
});
