import type { Logger } from 'pino';

/** What a Lease holds (coordination.k8s.io/v1), as far as leader election reads and writes it. */
export interface LeaseRecord {
  holder: string;
  durationSeconds: number;
  acquireTime?: Date;
  renewTime?: Date;
  transitions: number;
  /** Optimistic concurrency: an update of a stale record must fail. */
  resourceVersion?: string;
}

/** One Lease object: read, create, and compare-and-swap update (both throw on a conflict). */
export interface LeaseApi {
  get(): Promise<LeaseRecord | undefined>;
  create(record: LeaseRecord): Promise<LeaseRecord>;
  update(record: LeaseRecord): Promise<LeaseRecord>;
}

export interface ElectionTimings {
  /** How long a standby waits, after it last saw the record change, before it takes over. */
  leaseSeconds: number;
  /** A leader that could not renew for this long steps down (must be below the lease). */
  renewDeadlineMs: number;
  /** Between two attempts to acquire or renew. */
  retryPeriodMs: number;
}

/** Why timings cannot work, or undefined: a leader must step down before anyone may take over. */
export function timingsProblem(t: ElectionTimings): string | undefined {
  if (!Number.isInteger(t.leaseSeconds) || t.leaseSeconds < 1)
    return 'the lease must be a whole number of seconds ≥ 1';
  if (t.renewDeadlineMs >= t.leaseSeconds * 1000) return 'the renew deadline must be shorter than the lease';
  if (t.retryPeriodMs <= 0 || t.retryPeriodMs >= t.renewDeadlineMs)
    return 'the retry period must be positive and shorter than the renew deadline';
  return undefined;
}

export interface ElectorOptions extends ElectionTimings {
  api: LeaseApi;
  identity: string;
  log: Logger;
  now?: () => number;
}

/**
 * Leader election over one Lease. Expiry is judged by this process's own clock from when it last
 * saw the record change, never from the times written in it (other hosts' clocks may differ). A
 * leader that cannot renew within the renew deadline steps down — before the lease, as others see
 * it, can have expired — and never leads again: the caller ends the process.
 */
export class LeaderElector {
  private observed?: { key: string; at: number };
  private record?: LeaseRecord;
  private leading = false;
  private stopped = false;
  private lastRenew = 0;
  private timer?: NodeJS.Timeout;
  private watchdog?: NodeJS.Timeout;
  private readonly now: () => number;
  private readonly leadingWaiters: (() => void)[] = [];
  private readonly lostListeners: (() => void)[] = [];

  constructor(private readonly opts: ElectorOptions) {
    this.now = opts.now ?? Date.now;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Who holds the lease as last seen ('' when nobody). */
  get holder(): string {
    return this.record?.holder ?? '';
  }

  start(): void {
    this.schedule(0);
  }

  /** Resolves once this process leads. */
  whenLeading(): Promise<void> {
    if (this.leading) return Promise.resolve();
    return new Promise((resolve) => this.leadingWaiters.push(resolve));
  }

  /** Called once if leadership is lost (the renew deadline passed without a renewal). */
  onLost(fn: () => void): void {
    this.lostListeners.push(fn);
  }

  /** Stops campaigning; a leader hands the lease over at once (a standby need not wait it out). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    if (!this.leading || !this.record) return;
    this.leading = false;
    try {
      await this.opts.api.update({
        ...this.record,
        holder: '',
        durationSeconds: 1,
        renewTime: new Date(this.now()),
      });
      this.opts.log.info('lease released');
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'could not release the lease');
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.attempt(), ms);
  }

  private async attempt(): Promise<void> {
    let held = false;
    let timeout: NodeJS.Timeout | undefined;
    // A call that hangs (a dead connection) must not end the campaign: give up on it and retry.
    const hung = new Promise<never>((_, reject) => {
      timeout = setTimeout(
        () => reject(new Error('no answer from the API server')),
        this.opts.renewDeadlineMs,
      );
    });
    try {
      held = await Promise.race([this.tryAcquireOrRenew(), hung]);
    } catch (err) {
      this.opts.log.warn(
        { err: (err as Error).message },
        this.leading ? 'lease renewal failed' : 'lease check failed',
      );
    } finally {
      clearTimeout(timeout);
    }
    if (this.stopped) return;
    if (this.leading && !held && this.record?.holder && this.record.holder !== this.opts.identity) {
      this.stepDown();
      return;
    }
    if (held) {
      this.lastRenew = this.now();
      this.armWatchdog();
      if (!this.leading) {
        this.leading = true;
        this.opts.log.info({ identity: this.opts.identity }, 'became the leader');
        for (const w of this.leadingWaiters.splice(0)) w();
      }
    }
    this.schedule(this.opts.retryPeriodMs);
  }

  /** Steps down when no renewal lands within the deadline, even if an API call hangs. */
  private armWatchdog(): void {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.stepDown(), this.opts.renewDeadlineMs);
  }

  private stepDown(): void {
    if (!this.leading || this.stopped) return;
    this.opts.log.error(
      { identity: this.opts.identity, sinceRenewMs: this.now() - this.lastRenew },
      'could not renew the lease in time: stepping down',
    );
    this.leading = false;
    this.stopped = true;
    clearTimeout(this.timer);
    for (const fn of this.lostListeners) fn();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { api, identity, leaseSeconds } = this.opts;
    const now = this.now();
    const current = await api.get();
    if (!current) {
      this.record = await api.create({
        holder: identity,
        durationSeconds: leaseSeconds,
        acquireTime: new Date(now),
        renewTime: new Date(now),
        transitions: 0,
      });
      return true;
    }
    const key = `${current.holder}|${current.renewTime?.getTime()}|${current.resourceVersion}`;
    if (this.observed?.key !== key) this.observed = { key, at: now };
    this.record = current;
    const mine = current.holder === identity;
    const expired = this.observed.at + current.durationSeconds * 1000 <= now;
    if (current.holder && !mine && !expired) return false;
    // Ours to renew, or free (released, or expired as this process's clock sees it).
    if (!mine) this.opts.log.info({ previous: current.holder || undefined }, 'acquiring the lease');
    this.record = await api.update({
      ...current,
      holder: identity,
      durationSeconds: leaseSeconds,
      acquireTime: mine ? current.acquireTime : new Date(now),
      renewTime: new Date(now),
      transitions: mine ? current.transitions : current.transitions + 1,
    });
    this.observed = undefined;
    return true;
  }
}
