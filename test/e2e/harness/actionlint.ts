import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { cachePath, pinnedVersion, provisioned } from './cache.ts';

export function actionlintBinary(): string {
  const dir = cachePath('actionlint', `v${pinnedVersion('ACTIONLINT_VERSION')}`);
  return join(provisioned('actionlint', dir), 'actionlint');
}

/** actionlint's findings on workflow files, one line each; empty when they pass. */
export function runActionlint(files: string[]): string[] {
  const run = spawnSync(actionlintBinary(), ['-no-color', '-oneline', ...files], { encoding: 'utf8' });
  // Exit 1 means findings, which are the result; anything else is actionlint failing to run.
  if (run.status !== 0 && run.status !== 1)
    throw new Error(`actionlint failed (${run.status}): ${run.stderr}`);
  return run.stdout.split('\n').filter(Boolean);
}
