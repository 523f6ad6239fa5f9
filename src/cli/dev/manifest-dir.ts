import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

/**
 * The folder `mlops dev` runs: DIR when given, else `dist/<app>` — the `--app` one, or the only
 * app folder there is.
 */
export function resolveManifestDir(dir: string | undefined, app: string | undefined, cwd: string): string {
  if (dir) {
    // Relative to the current folder; an absolute DIR as given.
    const path = resolve(cwd, dir);
    if (!existsSync(path) || !statSync(path).isDirectory()) {
      throw new Error(`${dir}: no such directory; give a folder of synthesized YAML, e.g. dist/quickstart`);
    }
    if (app) throw new Error('give either DIR or --app, not both');
    return path;
  }
  const dist = join(cwd, 'dist');
  const apps = existsSync(dist)
    ? readdirSync(dist, { withFileTypes: true })
        .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
        .map((e) => e.name)
        .sort()
    : [];
  if (app) {
    // `--app apps/quickstart.ts` names the same output folder as `--app quickstart`.
    const name = basename(app).replace(/\.[cm]?[jt]s$/, '');
    if (!apps.includes(name)) {
      throw new Error(
        `no dist/${name}; ${apps.length ? `apps in dist: ${apps.join(', ')}` : 'dist has no apps'} ` +
          `(run \`npx mlops synth\` to write them)`,
      );
    }
    return join(dist, name);
  }
  if (apps.length === 0) {
    throw new Error(
      'dist has no synthesized apps; run `npx mlops synth` first, or give a folder: mlops dev DIR',
    );
  }
  if (apps.length > 1) {
    throw new Error(`dist holds several apps (${apps.join(', ')}); pick one with --app NAME`);
  }
  return join(dist, apps[0]);
}
