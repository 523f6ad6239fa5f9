import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';

/** A server process started in its own process group, its output appended to one log file. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  isRunning(): boolean;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

// Servers must not outlive the test process, whatever way it ends.
let cleanupInstalled = false;
function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', () => {
    for (const child of running) killGroup(child, 'SIGKILL');
  });
  const signals = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
  for (const [signal, number] of Object.entries(signals)) {
    process.once(signal, () => {
      for (const child of running) killGroup(child, 'SIGKILL');
      process.exit(128 + number);
    });
  }
}

/**
 * Exit handlers do not run when the test process is SIGKILLed (e.g. a worker killed on timeout),
 * so a tiny detached watchdog kills the server's group once this process is gone.
 */
function watchParent(pgid: number): void {
  const script = `while kill -0 ${process.pid} 2>/dev/null && kill -0 -${pgid} 2>/dev/null; do sleep 1; done; kill -KILL -${pgid} 2>/dev/null`;
  const watchdog = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  watchdog.on('error', () => {});
  watchdog.unref();
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  opts: { logFile: string; cwd?: string; env?: NodeJS.ProcessEnv },
): ManagedProcess {
  installCleanup();
  const fd = openSync(opts.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      detached: true,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  running.add(child);
  if (child.pid !== undefined) watchParent(child.pid);
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once('error', (err) => {
      done = true;
      running.delete(child);
      resolve(`spawn error: ${err.message}`);
    });
    child.once('exit', (code, signal) => {
      done = true;
      running.delete(child);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  return {
    name,
    pid: child.pid ?? -1,
    logFile: opts.logFile,
    exited,
    isRunning: () => !done,
    async stop(graceMs = 10_000) {
      if (done) return;
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // Children that left the group leader behind (e.g. worker processes) go too.
      killGroup(child, 'SIGKILL');
    },
  };
}

/** The last `lines` lines of a log file, for error messages. */
export function logTail(logFile: string, lines = 40): string {
  if (!existsSync(logFile)) return '(no log file)';
  const text = readFileSync(logFile, 'utf8').trimEnd();
  return text.split('\n').slice(-lines).join('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `ready` until it returns true. Fails early, with the log tail, when the process exits, and
 * after `timeoutMs` with a message naming what did not start.
 */
export async function waitUntilReady(
  proc: ManagedProcess,
  what: string,
  ready: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!proc.isRunning()) {
      const code = await proc.exited;
      throw new Error(
        `${what} exited during startup (${code}). Log ${proc.logFile}:\n${logTail(proc.logFile)}`,
      );
    }
    try {
      if (await ready()) return;
    } catch {
      // not up yet
    }
    await sleep(250);
  }
  await proc.stop(2_000);
  throw new Error(
    `${what} was not ready within ${Math.round(timeoutMs / 1000)}s. Log ${proc.logFile}:\n${logTail(proc.logFile)}`,
  );
}

/** True when the log file contains `text`. */
export function logContains(logFile: string, text: string | RegExp): boolean {
  if (!existsSync(logFile)) return false;
  const content = readFileSync(logFile, 'utf8');
  return typeof text === 'string' ? content.includes(text) : text.test(content);
}

/**
 * Calls `fn` every `intervalMs` until it returns a truthy value, which it resolves with; past
 * `timeoutMs` it throws naming `what`, the last error and the tail of each log in `logs`.
 */
export async function pollUntil<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  opts: { timeoutMs?: number; intervalMs?: number; logs?: string[]; logLines?: number } = {},
): Promise<T> {
  const { timeoutMs = 60_000, intervalMs = 100, logs = [], logLines = 15 } = opts;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const tails = logs.map((l) => `${l}:\n${logTail(l, logLines)}`).join('\n');
      throw new Error(`${what} within ${timeoutMs} ms (${String(last ?? '')})\n${tails}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
