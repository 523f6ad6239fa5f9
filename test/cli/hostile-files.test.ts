import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

// validate and diff on files that are not what they seem: each case spawns the real CLI.
vi.setConfig({ testTimeout: 90_000 });

const bin = fileURLToPath(new URL('../../bin/mlops.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'cli-hostile-'));
// Records the CLI's peak RSS (kB) in a file when it exits.
const rssHook = join(tmp, 'rss.mjs');
writeFileSync(
  rssHook,
  "import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(process.env.RSS_FILE, String(process.resourceUsage().maxRSS)));\n",
);

function mlops(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const configMap = (name: string, value: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: n\ndata:\n  blob: "${value}"\n`;

function folder(name: string, files: Record<string, string>): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

describe('mlops validate and diff on hostile files', () => {
  it('skip a FIFO named *.yaml with a warning instead of waiting for a writer', () => {
    const dir = folder('fifo', { 'ok.yaml': configMap('ok', 'x') });
    expect(spawnSync('mkfifo', [join(dir, 'pipe.yaml')]).status).toBe(0);
    const valid = mlops(['validate', dir]);
    expect(valid.code).toBe(0);
    expect(valid.stderr).toContain(`warning: ${join(dir, 'pipe.yaml')}: skipped, not a regular file`);
    expect(valid.stdout).toContain('1 objects checked: no findings');
    const diff = mlops(['diff', dir, dir]);
    expect(diff.code).toBe(0);
    expect(diff.stderr).toContain('pipe.yaml: skipped, not a regular file');
  });

  it('name the file of a YAML alias bomb', () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      levels.push(
        `${cur}: &${cur} [*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev}]`,
      );
    }
    const dir = folder('bomb', {
      'bomb.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n${levels.join('\n')}\n`,
    });
    for (const args of [
      ['validate', dir],
      ['diff', dir, dir],
    ]) {
      const r = mlops(args);
      expect(r.code, args[0]).toBe(2);
      expect(r.stderr).toMatch(/bomb\.yaml: document 1: .*alias/i);
    }
  });

  it('report a ConfigMap over 1 MiB: validate as a finding, diff as a warning', () => {
    const big = 'x'.repeat(1.5 * 1024 * 1024);
    const dir = folder('big', { 'cm.yaml': configMap('big', big) });
    const r = mlops(['validate', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'cm.yaml: ConfigMap n/big: data: holds 1.5 MiB of data, over the 1 MiB Kubernetes accepts in a ConfigMap',
    );
    const empty = folder('empty', {});
    const diff = mlops(['diff', empty, dir]);
    expect(diff.stdout).toContain('! data holds 1.5 MiB of data, over the 1 MiB');
  });

  it('report a 100 MB file without reading it, in bounded memory', () => {
    const dir = folder('huge', { 'ok.yaml': configMap('ok', 'x') });
    const file = join(dir, 'huge.yaml');
    writeFileSync(file, configMap('huge', ''));
    truncateSync(file, 100 * 1024 * 1024); // sparse: costs no disk
    const rssFile = join(tmp, 'rss');
    const r = mlops(['validate', dir], {
      NODE_OPTIONS: `--import=${pathToFileURL(rssHook).href}`,
      RSS_FILE: rssFile,
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'huge.yaml: the file is 100.0 MiB, not read: over the 8.0 MiB a manifest file may hold',
    );
    expect(r.stdout).toContain('[schema/too-large]');
    expect(Number(readFileSync(rssFile, 'utf8')) / 1024).toBeLessThan(400);
    const diff = mlops(['diff', dir, dir]);
    expect(diff.code).toBe(2);
    expect(diff.stderr).toContain('huge.yaml is 100.0 MiB, not read');
  });
});

describe('mlops diff on credentials', () => {
  it('prints no credential in any format, PR comment included', () => {
    const deployment = (pw: string) =>
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'w', namespace: 'n' },
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: 'c',
                  image: 'app:1',
                  env: [{ name: 'AWS_SECRET_ACCESS_KEY', value: `key-${pw}` }],
                  args: [`--password=pass-${pw}`, `postgres://u:uri-${pw}@db`],
                },
              ],
            },
          },
        },
      });
    const base = folder('cred-base', { 'w.yaml': deployment('old') });
    const head = folder('cred-head', { 'w.yaml': deployment('new') });
    for (const format of ['text', 'markdown', 'json']) {
      const r = mlops(['diff', base, head, '--format', format]);
      expect(r.code, format).toBe(1);
      expect(r.stdout).toContain('<secret: 7 bytes>');
      for (const leaked of ['key-', 'pass-', 'uri-']) expect(r.stdout, format).not.toContain(leaked);
    }
  });
});
