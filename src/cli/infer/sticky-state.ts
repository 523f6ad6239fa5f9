import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** Where `mlops infer --sticky` keeps the last `x-seldon-route` per gateway and route key. */
export function defaultStickyFile(env: NodeJS.ProcessEnv = process.env): string {
  const config = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(config, 'mlops', 'sticky-routes.json');
}

type Routes = Record<string, string>;

/** A small JSON map `<gateway> <route key>` → route, rewritten atomically on each change. */
export class StickyState {
  constructor(readonly file: string) {}

  get(gateway: string, routeKey: string): string | undefined {
    return this.read()[entryKey(gateway, routeKey)];
  }

  set(gateway: string, routeKey: string, route: string): void {
    const routes = this.read();
    routes[entryKey(gateway, routeKey)] = route;
    const sorted = Object.fromEntries(Object.entries(routes).sort(([a], [b]) => (a < b ? -1 : 1)));
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(sorted, null, 2)}\n`);
    renameSync(tmp, this.file);
  }

  private read(): Routes {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return {};
    }
    try {
      const value = JSON.parse(text) as unknown;
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        return Object.fromEntries(Object.entries(value).filter(([, v]) => typeof v === 'string')) as Routes;
      }
    } catch {
      // A damaged file only loses stickiness; the next response rewrites it.
    }
    return {};
  }
}

function entryKey(gateway: string, routeKey: string): string {
  return `${gateway.replace(/\/+$/, '')} ${routeKey}`;
}
