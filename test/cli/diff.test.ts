import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mlops } from '../review/cli.ts';
import { fixtures } from '../review/golden.ts';

const base = join(fixtures, 'diff/base');
const head = join(fixtures, 'diff/head');
const tmp = mkdtempSync(join(tmpdir(), 'cli-diff-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('mlops diff', () => {
  it('exits 1 with the summary first when there are differences', () => {
    const r = mlops(['diff', base, head]);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe('2 added, 6 changed, 1 replaced, 1 removed (1 unchanged)');
    expect(r.stdout).toContain('traffic iris-v2 50% → 80%');
  });

  it('exits 0 for identical sets, and with --no-exit-code', () => {
    expect(mlops(['diff', base, base])).toMatchObject({
      code: 0,
      stdout: '0 added, 0 changed, 0 replaced, 0 removed (9 unchanged)\n',
    });
    expect(mlops(['diff', base, head, '--no-exit-code']).code).toBe(0);
  });

  it('exits 1 when objects are only added, or only removed', () => {
    const model = (name: string) =>
      `apiVersion: mlops.seldon.io/v1alpha1\nkind: Model\nmetadata: {name: ${name}, namespace: serving}\nspec: {storageUri: gs://m/${name}}\n`;
    const one = join(tmp, 'one.yaml');
    const two = join(tmp, 'two.yaml');
    writeFileSync(one, model('a'));
    writeFileSync(two, `${model('a')}---\n${model('b')}`);
    const added = mlops(['diff', one, two]);
    expect(added).toMatchObject({ code: 1, stderr: '' });
    expect(added.stdout.split('\n')[0]).toBe('1 added, 0 changed, 0 replaced, 0 removed (1 unchanged)');
    const removed = mlops(['diff', two, one]);
    expect(removed).toMatchObject({ code: 1, stderr: '' });
    expect(removed.stdout.split('\n')[0]).toBe('0 added, 0 changed, 0 replaced, 1 removed (1 unchanged)');
  });

  it('exits 2 with a clear message on errors', () => {
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, 'kind: [');
    const r = mlops(['diff', base, bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad.yaml:1: document 1 is not valid YAML/);
    expect(mlops(['diff', base]).stderr).toMatch(/give two directories or files/);
    expect(mlops(['diff', '--base', 'HEAD', '--live']).code).toBe(2);
  });

  it('prints markdown and json', () => {
    const md = mlops(['diff', base, head, '--format', 'markdown', '--title', 'staging']);
    expect(md.stdout.startsWith('### staging: 2 added · 6 changed · 1 replaced · 1 removed')).toBe(true);
    expect(md.stdout).toContain('```mermaid');
    const json = JSON.parse(mlops(['diff', base, head, '--format', 'json']).stdout);
    expect(json.summary).toEqual({ added: 2, changed: 6, removed: 1, replaced: 1, unchanged: 1 });
  });

  it('--base compares the committed directory with the working tree', () => {
    const repo = join(tmp, 'repo');
    cpSync(base, join(repo, 'dist'), { recursive: true });
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'pipe' });
    git('init', '-q');
    git('add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'base');
    expect(mlops(['diff', '--base', 'HEAD'], repo).code).toBe(0);
    rmSync(join(repo, 'dist'), { recursive: true });
    cpSync(head, join(repo, 'dist'), { recursive: true });
    const r = mlops(['diff', '--base', 'HEAD', '--format', 'json'], repo);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).summary.changed).toBe(6);
  });
});
