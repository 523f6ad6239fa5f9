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
  /** The process id of the current run. */
  readonly pid: number;
  /** How often it was started again after dying. */
  readonly restarts: number;
  isRunning(): boolean;
  /** The last lines it printed (as shown, across restarts), for error reports. */
  tail(): string[];
}

/** What the supervisor does about a death: start it again after `restartInMs`. */
export interface Death {
  code: number | string;
  restartInMs: number;
}

const TAIL_LINES = 30;
/** Back-off of restarts: doubling from the first to the last, like a kubelet's, but for a laptop. */
const FIRST_RESTART_MS = 500;
const MAX_RESTART_MS = 8_000;
/** A run this long counts as healthy: the next death restarts at once again. */
const HEALTHY_RUN_MS = 10_000;

/**
 * Runs components as child processes, each in its own process group (so stopping one also stops
 * what it started), prints their output prefixed by name, and starts again, with back-off, one
 * that dies, as a kubelet would: the others keep running, and clients reconnect.
 */
export class Supervisor {
  private readonly units: Unit[] = [];
  private stopping = false;

  constructor(
    private readonly out: (line: string) => void,
    private readonly onDeath: (child: Child, death: Death) => void,
    private readonly width = 20,
  ) {}

  start(spec: ChildSpec): Child {
    const unit = new Unit(spec, (line) => formatLogLine(spec.name, this.width, line), this.out);
    unit.onExit = (code, ranMs) => {
      if (this.stopping) return;
      unit.failures = ranMs >= HEALTHY_RUN_MS ? 1 : unit.failures + 1;
      const restartInMs = Math.min(MAX_RESTART_MS, FIRST_RESTART_MS * 2 ** (unit.failures - 1));
      this.onDeath(unit, { code, restartInMs });
      unit.timer = setTimeout(() => {
        if (this.stopping) return;
        unit.restarts++;
        unit.spawn();
      }, restartInMs);
    };
    unit.spawn();
    this.units.push(unit);
    return unit;
  }

  /** SIGTERM to every group, SIGKILL to those still there after `graceMs`. */
  async stopAll(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    for (const unit of this.units) {
      clearTimeout(unit.timer);
      unit.signal('SIGTERM');
    }
    const timer = setTimeout(() => this.killAll(), graceMs);
    await Promise.all(this.units.map((unit) => unit.exited));
    clearTimeout(timer);
    // Processes a component started and left behind (e.g. MLServer workers) go too.
    this.killAll();
  }

  killAll(): void {
    this.stopping = true;
    for (const unit of this.units) {
      clearTimeout(unit.timer);
      unit.signal('SIGKILL');
    }
  }
}

/** One component: its current process, and what it printed across restarts. */
class Unit implements Child {
  restarts = 0;
  failures = 0;
  timer?: NodeJS.Timeout;
  onExit: (code: number | string, ranMs: number) => void = () => {};
  /** Settles when the current process has exited (at once when none runs). */
  exited: Promise<void> = Promise.resolve();
  private child?: ChildProcess;
  private running = false;
  private readonly lines: string[] = [];

  constructor(
    private readonly spec: ChildSpec,
    private readonly format: (line: string) => string,
    private readonly out: (shown: string) => void,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  isRunning(): boolean {
    return this.running;
  }

  tail(): string[] {
    return [...this.lines];
  }

  spawn(): void {
    const started = Date.now();
    const child = spawn(this.spec.command, this.spec.args, {
      cwd: this.spec.cwd,
      env: { ...process.env, ...this.spec.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.running = true;
    const print = (line: string) => {
      const shown = this.format(line);
      this.out(shown);
      this.lines.push(shown);
      if (this.lines.length > TAIL_LINES) this.lines.shift();
    };
    for (const stream of [child.stdout, child.stderr]) {
      const splitter = new LineSplitter();
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => splitter.push(chunk, print));
      stream?.on('end', () => splitter.flush(print));
    }
    this.exited = new Promise<void>((resolve) => {
      const done = (code: number | string) => {
        if (!this.running) return;
        this.running = false;
        resolve();
        this.onExit(code, Date.now() - started);
      };
      child.once('error', (err) => done(`could not start: ${err.message}`));
      child.once('exit', (code, signal) => done(code ?? signal ?? 'unknown'));
    });
    if (child.pid !== undefined) watchParent(child.pid);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.child) signalGroup(this.child, signal);
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
