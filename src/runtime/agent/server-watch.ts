// Notices the inference server behind the agent going away and coming back (a crash, an OOM
// kill, a container restart): polled health, and at once when a proxied request cannot reach
// it. The agent then withdraws the replica's models and, once the server is back, loads them again.
import type { Logger } from 'pino';

export interface ServerWatchOptions {
  ready: () => Promise<boolean>;
  /** Failed polls in a row before the server counts as down: a server busy loading a model may
   * miss one health check. A request that could not connect at all counts at once. */
  downAfter?: number;
  onDown: () => void;
  onUp: () => Promise<void>;
  log: Logger;
  /** Health poll period. */
  periodMs?: number;
}

export class ServerWatch {
  up = true;
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;
  private recovering = false;
  private failures = 0;

  constructor(private readonly opts: ServerWatchOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.check(), this.opts.periodMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** A request just failed to reach the server: look now rather than at the next poll. */
  unreachable(): Promise<void> {
    return this.check(true);
  }

  private check(unreachable = false): Promise<void> {
    this.checking ??= this.probe(unreachable).finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async probe(unreachable: boolean): Promise<void> {
    const ready = await this.opts.ready().catch(() => false);
    this.failures = ready ? 0 : this.failures + 1;
    const down = unreachable || this.failures >= (this.opts.downAfter ?? 3);
    if (!ready && down && this.up) {
      this.up = false;
      this.opts.log.warn('inference server stopped answering: its models are withdrawn');
      this.opts.onDown();
    } else if (ready && !this.up && !this.recovering) {
      this.recovering = true;
      try {
        await this.opts.onUp();
        this.up = true;
        this.opts.log.info('inference server back: models loaded again');
      } catch (err) {
        // Stay down; the next poll tries again.
        this.opts.log.warn(
          { err: (err as Error).message },
          'reloading after an inference server restart failed',
        );
      } finally {
        this.recovering = false;
      }
    }
  }
}
