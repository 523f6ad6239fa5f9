/**
 * Delays between attempts to reach the scheduler again. A restarted or newly elected scheduler
 * is back within a second or two, so the first attempts come quickly and stay at most `capMs`
 * apart while it is expected; after `patienceMs` without it they slow down to `slowCapMs`.
 * Each delay is jittered (half to all of it) so a fleet of clients does not arrive in step.
 */
export class ReconnectBackoff {
  private attempt = 0;
  private since: number | undefined;

  constructor(
    private readonly opts = { firstMs: 50, capMs: 250, patienceMs: 30_000, slowCapMs: 2000 },
    private readonly random: () => number = Math.random,
    private readonly now: () => number = Date.now,
  ) {}

  /** The delay before the next attempt. */
  next(): number {
    const now = this.now();
    this.since ??= now;
    const cap = now - this.since > this.opts.patienceMs ? this.opts.slowCapMs : this.opts.capMs;
    const base = Math.min(cap, this.opts.firstMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.round(base * (0.5 + this.random() * 0.5));
  }

  /** Connected: the next loss starts from the quick end again. */
  reset(): void {
    this.attempt = 0;
    this.since = undefined;
  }
}
