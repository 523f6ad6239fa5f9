// The Dockerfile cannot be built here (no container engine in the test environment): these checks
// parse it and hold it to what the Runtime construct's pods assume. test/e2e/image.test.ts builds
// the same image without a daemon (scripts/image/build.sh) and runs it.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RUNTIME_UID, SHARED_GID } from '../../src/constructs/workloads/workload.ts';

const root = new URL('../../', import.meta.url);
const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const imageEnv = readFileSync(new URL('scripts/image/image.env', root), 'utf8');
const appFiles = (/^IMAGE_APP_FILES="([^"]*)"$/m.exec(imageEnv)?.[1] ?? '').split(' ');

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
  it('builds on a pinned Debian image, never latest, and ships only the layers it assembles', () => {
    expect(stages).toHaveLength(2);
    const build = expand(stages[0].args.split(/\s+/)[0]);
    expect(build).toMatch(/^debian:[a-z]+(-slim)?$/);
    expect(build).not.toMatch(/:latest$/);
    // The final image is made of the two layers the build stage assembles, nothing else.
    expect(stages[1].args).toBe('scratch');
    const copies = lastStage.filter((i) => i.op === 'COPY').map((i) => i.args);
    expect(copies).toEqual(['--from=build /layers/base/ /', '--from=build /layers/app/ /']);
  });

  it('makes its layers with the scripts the daemonless build uses', () => {
    const runs = all.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runs.some((r) => r.includes('bash scripts/image/base.sh /layers/base.tar'))).toBe(true);
    expect(runs.some((r) => r.includes('bash scripts/image/app.sh . /layers/app.tar'))).toBe(true);
    for (const script of ['base.sh', 'app.sh', 'build.sh'])
      expect(existsSync(new URL(`scripts/image/${script}`, root))).toBe(true);
  });

  it('runs the compiled code with production dependencies only: no TypeScript compiler', () => {
    expect(lastStage.some((i) => i.op === 'RUN')).toBe(false);
    const app = readFileSync(new URL('scripts/image/app.sh', root), 'utf8');
    expect(app).toMatch(/npm ci --omit=dev --omit=peer\b/);
    expect(pkg.dependencies.typescript).toBeUndefined();
    expect(appFiles).toContain('lib');
    expect(appFiles).not.toContain('src');
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

  it('enters through the mlops-runtime bin of package.json with Node, and ships what it loads', () => {
    const entry = lastStage.find((i) => i.op === 'ENTRYPOINT');
    expect(entry).toBeDefined();
    // Exec form, absolute paths: the image has no shell and no /usr/bin/env for the shebang.
    const [node, script] = JSON.parse(entry?.args ?? '[]') as string[];
    expect(node).toBe('/usr/bin/node');
    expect(script).toBe(`/app/${pkg.bin['mlops-runtime'].replace(/^\.\//, '')}`);
    expect(lastStage.find((i) => i.op === 'WORKDIR')?.args).toBe('/app');
    for (const needed of ['package.json', 'bin', 'proto', 'lib']) expect(appFiles).toContain(needed);
    for (const file of appFiles.filter((f) => f !== 'lib'))
      expect(existsSync(new URL(file, root))).toBe(true);
  });

  it('.dockerignore lets exactly the build inputs into the build context', () => {
    const lines = readFileSync(new URL('.dockerignore', root), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    expect(lines[0]).toBe('*');
    expect(lines.slice(1).sort()).toEqual([
      '!bin/',
      '!package-lock.json',
      '!package.json',
      '!proto/',
      '!scripts/image/',
      '!src/',
      '!tsconfig.build.json',
      '!tsconfig.json',
    ]);
  });
});
