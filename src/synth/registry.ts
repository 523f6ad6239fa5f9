import type { App } from 'cdk8s';

/**
 * Apps created while the CLI imports app modules. It lives on `globalThis` under a registered
 * symbol so that it is shared even if the package is loaded twice (e.g. once by path, once by
 * package name).
 */
interface AppRegistry {
  /** How many app modules are being imported right now. */
  loading: number;
  created: App[];
}

const KEY = Symbol.for('cdk8s-mlops.app-registry');

function registry(): AppRegistry {
  const holder = globalThis as { [KEY]?: AppRegistry };
  holder[KEY] ??= { loading: 0, created: [] };
  return holder[KEY];
}

/** Whether app modules are being imported by the CLI (which then synthesizes them itself). */
export function isLoadingApps(): boolean {
  return registry().loading > 0;
}

/** Records an app created while loading; outside loading nothing is kept. */
export function registerApp(app: App): void {
  const r = registry();
  if (r.loading > 0) r.created.push(app);
}

/** Runs `load` and returns its result with the apps created meanwhile. */
export async function collectApps<T>(load: () => Promise<T>): Promise<{ result: T; apps: App[] }> {
  const r = registry();
  const before = r.created.length;
  r.loading++;
  try {
    const result = await load();
    return { result, apps: r.created.slice(before) };
  } finally {
    r.loading--;
    if (r.loading === 0) r.created.length = 0;
  }
}
