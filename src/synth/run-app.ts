// Runs one app file in a child process (app-process.ts) with a time limit, so that an app that
// loops forever, waits on something that never comes or calls process.exit() is reported as
// such instead of hanging `mlops synth` or ending it with nothing written and status 0.
import { fork } from 'node:child_process';
import type { AppOutcome } from './app-outcome.ts';
import type { SynthFiles } from './output.ts';
import type { SynthTarget } from './synthesize.ts';

/** Seconds an app may take to load and synthesize unless `--timeout` says otherwise. */
export const DEFAULT_APP_TIMEOUT_SECONDS = 120;

export interface RunAppOptions {
  target?: SynthTarget;
  /** @default DEFAULT_APP_TIMEOUT_SECONDS */
  timeoutSeconds?: number;
}

/** The app could not be synthesized: `invalid` (its own problems, exit 1) or `error` (exit 2). */
export class AppRunError extends Error {
  constructor(
    readonly kind: 'invalid' | 'error',
    message: string,
    /** The stack of what the app threw, for --verbose. */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'AppRunError';
  }
}

const FROM_SOURCES = import.meta.url.endsWith('.ts');
const ENTRY = new URL(FROM_SOURCES ? './app-process.ts' : './app-process.js', import.meta.url);

export function runApp(file: string, options: RunAppOptions = {}): Promise<SynthFiles> {
  const seconds = options.timeoutSeconds ?? DEFAULT_APP_TIMEOUT_SECONDS;
  return new Promise((resolvePromise, reject) => {
    const child = fork(ENTRY, [file, options.target ?? 'runtime'], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // From the sources (tests), the child needs tsx to run TypeScript; the build needs nothing.
      execArgv: FROM_SOURCES ? ['--import', import.meta.resolve('tsx')] : [],
    });
    let outcome: AppOutcome | undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, seconds * 1000);
    child.on('message', (m) => {
      outcome = m as AppOutcome;
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new AppRunError('error', `${file}: could not start a process for the app: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (outcome?.kind === 'files') return resolvePromise(new Map(outcome.files));
      if (outcome)
        return reject(
          new AppRunError(outcome.kind, outcome.message, 'stack' in outcome ? outcome.stack : undefined),
        );
      if (timedOut)
        return reject(
          new AppRunError(
            'error',
            `${file}: did not finish within ${seconds} s (an endless loop, or waiting for something that never comes?) and was stopped; if it is only slow, raise the limit with --timeout SECONDS`,
          ),
        );
      const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
      reject(
        new AppRunError(
          'error',
          `${file}: the app ${how} before it was synthesized; remove the process.exit() call (mlops synth synthesizes the app after loading it)`,
        ),
      );
    });
  });
}
