import { join } from 'node:path';
import { type ArgvValues, type Component, componentArgv } from '../../../src/spec/flags.ts';
import { repoRoot } from './cache.ts';
import { type ManagedProcess, startProcess } from './process.ts';

/**
 * Starts `mlops-runtime <component>` with the flags given, logging to `<dir>/<component>-<n>.log`,
 * where n counts the logs already in `logs` (a restarted component gets a log of its own, and
 * `logs` collects them all for failure messages).
 */
export function startRuntimeProcess<C extends Component>(
  component: C,
  flags: ArgvValues<C>,
  opts: { dir: string; logs: string[]; env?: NodeJS.ProcessEnv },
): ManagedProcess {
  const logFile = join(opts.dir, `${component}-${opts.logs.length}.log`);
  opts.logs.push(logFile);
  return startProcess(
    component,
    process.execPath,
    ['bin/mlops-runtime.js', ...componentArgv(component, flags)],
    {
      logFile,
      cwd: repoRoot,
      env: opts.env,
    },
  );
}
