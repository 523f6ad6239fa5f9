// What the process running an app reports back (see app-process.ts and run-app.ts).
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppLoadError } from './load-apps.ts';

export type AppOutcome =
  /** Synthesized: the output folder's files, in file-name order. */
  | { kind: 'files'; files: [string, string][] }
  /** The app loaded but has problems (SynthError): nothing to write. */
  | { kind: 'invalid'; message: string }
  /** The app could not be loaded, or threw: the message names the file, and the line it threw at. */
  | { kind: 'error'; message: string; stack?: string };

/** An error thrown while loading an app, with the first line of the user's code in its stack. */
export function describeThrown(file: string, err: unknown): AppOutcome {
  const cause = err instanceof AppLoadError ? err.cause : err;
  const message = err instanceof AppLoadError ? err.message : `${file}: ${String(err)}`;
  const stack = cause instanceof Error ? cause.stack : undefined;
  const at = stack ? thrownAt(stack) : undefined;
  return {
    kind: 'error',
    message: at ? `${message} (thrown at ${at})` : message,
    ...(stack ? { stack } : {}),
  };
}

// `    at fn (file:///p/apps/prod.ts?mlops-app:12:7)` or `    at /p/apps/_shared.ts:3:9`
const FRAME = /^\s+at (?:.*? \()?((?:file:\/\/)?\/[^\s()?]+)(?:\?[^\s():]*)?:(\d+):(\d+)\)?$/;

/** `apps/prod.ts:12`: the first frame outside node_modules and this package, relative to the cwd. */
function thrownAt(stack: string): string | undefined {
  const own = resolve(fileURLToPath(new URL('../..', import.meta.url)));
  for (const line of stack.split('\n')) {
    const m = FRAME.exec(line);
    if (!m) continue;
    const path = m[1].startsWith('file://') ? fileURLToPath(m[1]) : m[1];
    if (path.includes('/node_modules/') || path.startsWith(`${own}/`)) continue;
    return `${relative(process.cwd(), path) || path}:${m[2]}`;
  }
  return undefined;
}
