// The package as a user gets it: `npm pack` of this checkout (which builds lib/ through `prepare`),
// and commands run in a project outside the repository.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface OwnPackage {
  version: string;
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

export const pkg: OwnPackage = JSON.parse(
  execFileSync('node', ['-p', 'JSON.stringify(require("./package.json"))'], { cwd: ROOT, encoding: 'utf8' }),
);

export interface RunResult {
  status: number | null;
  stdout: string;
  output: string;
}

export function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): RunResult {
  const r = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, ...env },
  });
  return { status: r.status, stdout: r.stdout, output: `${r.stdout}${r.stderr}` };
}

/** Packs this package into dir; returns the tarball's file name. */
export function packInto(dir: string): string {
  const packed = run('npm', ['pack', '--pack-destination', dir], ROOT);
  expect(packed.status, packed.output).toBe(0);
  return packed.stdout.trim().split('\n').pop() as string;
}

/** npm install in a project, preferring the local cache (the registry only for what is missing). */
export function npmInstall(project: string, specs: string[]): void {
  const installed = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...specs], project);
  expect(installed.status, installed.output).toBe(0);
}
