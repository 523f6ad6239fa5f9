// The Dockerfile cannot be built here (no container engine in the test environment): these checks
// parse it and hold it to what the Runtime construct's pods assume.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RUNTIME_UID, SHARED_GID } from '../../src/constructs/workloads/workload.ts';

const root = new URL('../../', import.meta.url);
const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));

interface Instruction {
  op: string;
  args: string;
}

function instructions(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

const all = instructions(dockerfile);
const args = Object.fromEntries(
  all.filter((i) => i.op === 'ARG' && i.args.includes('=')).map((i) => i.args.split('=') as [string, string]),
);
const expand = (s: string) => s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args[a ?? b] ?? '');
const stages = all.filter((i) => i.op === 'FROM');
const lastStage = all.slice(all.lastIndexOf(stages[stages.length - 1]));

describe('Dockerfile', () => {
  it('is multi-stage on a pinned Node 20 image, never latest', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const from of stages) {
      const image = expand(from.args.split(/\s+/)[0]);
      expect(image).toMatch(/^node:20(\.\d+)*-[a-z-]+$/);
      expect(image).not.toMatch(/:latest$/);
    }
  });

  it('runs the compiled code with production dependencies only: no TypeScript compiler', () => {
    const runs = lastStage.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runs.some((r) => /\bnpm\b|\btsc\b/.test(r))).toBe(false);
    const deps = all.slice(all.findIndex((i) => i.op === 'FROM' && / AS deps$/i.test(i.args)));
    expect(deps.some((i) => i.op === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args))).toBe(true);
    expect(pkg.dependencies.typescript).toBeUndefined();
    expect(lastStage.some((i) => i.op === 'COPY' && /^--from=build \S*\/lib /.test(i.args))).toBe(true);
    expect(pkg.exports['.'].default).toMatch(/^\.\/lib\//);
  });

  it('runs as the numeric non-root user the Runtime construct sets as runAsUser', () => {
    const users = lastStage.filter((i) => i.op === 'USER');
    expect(users).toHaveLength(1);
    const [uid, gid] = users[0].args.split(':');
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).not.toBe(0);
    expect(Number(uid)).toBe(RUNTIME_UID);
    expect(Number(gid)).toBe(SHARED_GID);
  });

  it('enters through the mlops-runtime bin of package.json, and copies what it loads', () => {
    const entry = lastStage.find((i) => i.op === 'ENTRYPOINT');
    expect(entry).toBeDefined();
    const [command] = JSON.parse(entry?.args ?? '[]') as string[];
    expect(command).toBe('mlops-runtime');
    const bin = pkg.bin[command];
    expect(bin).toBeTruthy();
    expect(existsSync(new URL(bin, root))).toBe(true);
    const copied = lastStage
      .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
      .map((i) => i.args.split(/\s+/)[0]);
    for (const needed of ['package.json', 'bin', 'proto']) {
      expect(copied).toContain(needed);
      expect(existsSync(new URL(needed, root))).toBe(true);
    }
  });

  it('.dockerignore lets exactly those paths and the build inputs into the build context', () => {
    const lines = readFileSync(new URL('.dockerignore', root), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    expect(lines[0]).toBe('*');
    expect(lines.slice(1).sort()).toEqual([
      '!bin/',
      '!package-lock.json',
      '!package.json',
      '!proto/',
      '!src/',
      '!tsconfig.build.json',
      '!tsconfig.json',
    ]);
  });
});
