import { type ChildProcess, spawn } from 'node:child_process';
import { formatLogLine, LineSplitter } from './log-format.ts';

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<number | string>;
  isRunning(): boolean;
  /** The last lines it printed (as shown), for error reports. */
  tail(): string[];
}

const TAIL_LINES = 30;

/**
 * Runs components as child processes, each in its own process group (so stopping one also stops
 * what it started), prints their output prefixed by name, and reports the first one that dies.
 */
export class Supervisor {
  private readonly children: { child: ChildProcess; handle: Child }[] = [];
  private stopping = false;

  constructor(
    private readonly out: (line: string) => void,
    private readonly onDeath: (child: Child, code: number | string) => void,
    private readonly width = 20,
  ) {}

  start(spec: ChildSpec): Child {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    const print = (line: string) => {
      const formatted = formatLogLine(spec.name, this.width, line);
      lines.push(formatted);
      if (lines.length > TAIL_LINES) lines.shift();
      this.out(formatted);
    };
    for (const stream of [child.stdout, child.stderr]) {
      const splitter = new LineSplitter();
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => splitter.push(chunk, print));
      stream?.on('end', () => splitter.flush(print));
    }
    let running = true;
    const exited = new Promise<number | string>((resolve) => {
      child.once('error', (err) => {
        running = false;
        resolve(`could not start: ${err.message}`);
      });
      child.once('exit', (code, signal) => {
        running = false;
        resolve(code ?? signal ?? 'unknown');
      });
    });
    const handle: Child = {
      name: spec.name,
      pid: child.pid ?? -1,
      exited,
      isRunning: () => running,
      tail: () => [...lines],
    };
    if (child.pid !== undefined) watchParent(child.pid);
    exited.then((code) => {
      if (!this.stopping) this.onDeath(handle, code);
    });
    this.children.push({ child, handle });
    return handle;
  }

  /** SIGTERM to every group, SIGKILL to those still there after `graceMs`. */
  async stopAll(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    for (const { child } of this.children) signalGroup(child, 'SIGTERM');
    const timer = setTimeout(() => this.killAll(), graceMs);
    await Promise.all(this.children.map(({ handle }) => handle.exited));
    clearTimeout(timer);
    // Processes a component started and left behind (e.g. MLServer workers) go too.
    this.killAll();
  }

  killAll(): void {
    this.stopping = true;
    for (const { child } of this.children) signalGroup(child, 'SIGKILL');
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Exit handlers do not run when this process is SIGKILLed, so a tiny detached watchdog kills the
 * child's group once this process is gone.
 */
function watchParent(pgid: number): void {
  const script = `while kill -0 ${process.pid} 2>/dev/null && kill -0 -${pgid} 2>/dev/null; do sleep 1; done; kill -KILL -${pgid} 2>/dev/null`;
  const watchdog = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  watchdog.on('error', () => {});
  watchdog.unref();
}
