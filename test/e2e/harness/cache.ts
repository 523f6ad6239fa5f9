import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of the repository (harness files live in test/e2e/harness/). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Where `npm run provision` puts everything; outside the repository so clones share it. */
/** The synthesized output the dist checks read: `dist/`, or MLOPS_E2E_DIST to check another. */
export function distDir(): string {
  return process.env.MLOPS_E2E_DIST || join(repoRoot, 'dist');
}

export function cacheRoot(): string {
  return process.env.MLOPS_CACHE || join(homedir(), '.cache', 'cdk8s-mlops');
}

export function cachePath(...parts: string[]): string {
  return join(cacheRoot(), ...parts);
}

let versions: Record<string, string> | undefined;

/** The pinned versions, read from the same file the provisioning scripts source. */
export function pinnedVersions(): Record<string, string> {
  if (!versions) {
    const text = readFileSync(join(repoRoot, 'scripts/provision/versions.env'), 'utf8');
    versions = {};
    for (const line of text.split('\n')) {
      const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
      if (m) versions[m[1]] = m[2];
    }
  }
  return versions;
}

export function pinnedVersion(key: string): string {
  const v = pinnedVersions()[key];
  if (!v) throw new Error(`scripts/provision/versions.env has no ${key}`);
  return v;
}

/**
 * Returns `dir` when its provisioning stamp exists; otherwise throws the message every suite
 * shows for a missing artifact.
 */
export function provisioned(component: string, dir: string): string {
  if (!existsSync(join(dir, '.stamp'))) {
    throw new Error(
      `${component} is not provisioned (expected ${dir}). Run \`npm run provision\` ` +
        `(or \`bash scripts/provision/${component}.sh\`) first.`,
    );
  }
  return dir;
}
