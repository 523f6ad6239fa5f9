import { existsSync, readdirSync } from 'node:fs';
import { register } from 'node:module';
import { basename, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App } from 'cdk8s';
import { collectApps } from './registry.ts';

/** An app module and the name of its output folder. */
export interface AppSource {
  name: string;
  file: string;
}

const APP_EXTENSIONS = new Set(['.ts', '.mts', '.js', '.mjs']);

/** Every app module directly in `dir`, by name; files starting with `_` are helpers, not apps. */
export function discoverApps(dir: string): AppSource[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && APP_EXTENSIONS.has(extname(e.name)))
    .filter(
      (e) => !e.name.startsWith('_') && !e.name.endsWith('.d.ts') && !/\.test\.[mc]?[jt]s$/.test(e.name),
    )
    .map((e) => ({ name: appName(e.name), file: join(dir, e.name) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The output folder name of an app file: its base name without extension. */
export function appName(file: string): string {
  return basename(file, extname(file));
}

/** The app module could not be imported, or it does not define exactly one app. */
export class AppLoadError extends Error {
  constructor(
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${message}`, options);
    this.name = 'AppLoadError';
  }
}

/**
 * Imports an app module and returns its app: the module's default export if that is an App,
 * otherwise the one MlopsApp it created. While the module loads, `app.synth()` does nothing.
 */
export async function loadApp(file: string): Promise<App> {
  const path = resolve(file);
  if (!existsSync(path)) throw new AppLoadError(file, 'no such file');
  await loadTypeScriptApps();
  resolveOwnPackagesEverywhere();
  let loaded: { result: { default?: unknown }; apps: App[] };
  try {
    loaded = await collectApps(() => import(`${pathToFileURL(path).href}${APP_MARK}`));
  } catch (err) {
    let message = err instanceof Error ? err.message : String(err);
    // In a CommonJS package tsx compiles the app to CommonJS, which cannot load this package.
    if ((err as NodeJS.ErrnoException).code === 'ERR_REQUIRE_CYCLE_MODULE') {
      message +=
        '\napp files must be ES modules: add "type": "module" to package.json, or name the file .mts';
    }
    throw new AppLoadError(file, message, { cause: err });
  }
  const exported = loaded.result.default;
  if (exported instanceof App) return exported;
  if (loaded.apps.length === 1) return loaded.apps[0];
  if (loaded.apps.length === 0) {
    throw new AppLoadError(
      file,
      'defines no app: create one with `const app = new MlopsApp()` (from cdk8s-mlops), or `export default app`',
    );
  }
  throw new AppLoadError(
    file,
    `creates ${loaded.apps.length} apps: keep one app per file, or \`export default\` the one to synthesize`,
  );
}

/** Marks the import of an app module, which is always loaded as an ES module. */
const APP_MARK = '?mlops-app';
/** Run from the TypeScript sources (tests, tsx), whatever runs them already loads TypeScript. */
const FROM_SOURCES = import.meta.url.endsWith('.ts');
let tsxRegistered: Promise<void> | undefined;
let fallbackRegistered = false;

/**
 * Apps may be TypeScript files run without a build step. Node 20 cannot strip types, so tsx
 * compiles them as they load; it is registered here, on the first app, not when the CLI starts.
 */
function loadTypeScriptApps(): Promise<void> {
  if (FROM_SOURCES) return Promise.resolve();
  tsxRegistered ??= import('tsx/esm/api').then(({ register }) => {
    register();
  });
  return tsxRegistered;
}

/**
 * Lets an app file outside any project with these packages installed (a generated app in a
 * temporary folder, say) import `cdk8s-mlops`, `cdk8s` and `constructs`: when normal resolution
 * fails, they resolve to the copies this CLI runs with.
 */
function resolveOwnPackagesEverywhere(): void {
  if (fallbackRegistered) return;
  fallbackRegistered = true;
  const own: Record<string, string> = {
    'cdk8s-mlops': new URL(FROM_SOURCES ? '../index.ts' : '../index.js', import.meta.url).href,
    cdk8s: import.meta.resolve('cdk8s'),
    constructs: import.meta.resolve('constructs'),
  };
  const hooks = `const own = ${JSON.stringify(own)};
export async function resolve(specifier, context, next) {
  try {
    const resolved = await next(specifier, context);
    return specifier.endsWith(${JSON.stringify(APP_MARK)}) ? { ...resolved, format: 'module' } : resolved;
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !Object.hasOwn(own, specifier)) throw err;
    return next(own[specifier], context);
  }
}`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
}
