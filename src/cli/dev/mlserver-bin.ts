import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

export const MLSERVER_INSTALL_HINT =
  'install it with `pip install mlserver mlserver-sklearn` (then make `mlserver` reachable on PATH or set MLSERVER_BIN), ' +
  'or run `npm run provision` in this project';

/**
 * Where MLServer is: `MLSERVER_BIN`, else `mlserver` on PATH, else the virtualenv that
 * `npm run provision` builds (under MLOPS_CACHE or ~/.cache/cdk8s-mlops).
 */
export function findMlserver(
  env: NodeJS.ProcessEnv = process.env,
): { path: string; from: string } | undefined {
  if (env.MLSERVER_BIN) {
    if (!executable(env.MLSERVER_BIN)) {
      throw new Error(
        `MLSERVER_BIN=${env.MLSERVER_BIN} is not an executable file; point it at the mlserver command`,
      );
    }
    return { path: env.MLSERVER_BIN, from: 'MLSERVER_BIN' };
  }
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'mlserver');
    if (executable(candidate)) return { path: candidate, from: 'PATH' };
  }
  const root = join(env.MLOPS_CACHE || join(homedir(), '.cache', 'cdk8s-mlops'), 'mlserver');
  if (existsSync(root)) {
    // Newest provisioned version first; a folder without its stamp is an unfinished install.
    for (const version of readdirSync(root).sort().reverse()) {
      const candidate = join(root, version, 'venv', 'bin', 'mlserver');
      if (existsSync(join(root, version, '.stamp')) && executable(candidate)) {
        return { path: candidate, from: 'npm run provision' };
      }
    }
  }
  return undefined;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
