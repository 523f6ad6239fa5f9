import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type ElectionTimings,
  LeaderElector,
  type LeaseApi,
  type LeaseRecord,
  timingsProblem,
} from '../../../src/runtime/scheduler/leader-election.ts';

const log = pino({ level: 'silent' });
const TIMINGS: ElectionTimings = { leaseSeconds: 5, renewDeadlineMs: 3500, retryPeriodMs: 500 };

/** One Lease on a fake API server: compare-and-swap on resourceVersion, as the real one. */
class FakeLease {
  record?: LeaseRecord;
  private rv = 0;
  writes: string[] = [];

  client(identity: string): LeaseApi & { down: boolean; hang: boolean } {
    const call = <T>(fn: () => T): Promise<T> => {
      if (api.hang) return new Promise<T>(() => {});
      if (api.down) return Promise.reject(new Error('connection refused'));
      try {
        return Promise.resolve(fn());
      } catch (err) {
        return Promise.reject(err);
      }
    };
    const api = {
      down: false,
      hang: false,
      get: () => call(() => (this.record ? { ...this.record } : undefined)),
      create: (r: LeaseRecord) =>
        call(() => {
          if (this.record) throw Object.assign(new Error('already exists'), { code: 409 });
          return this.write(identity, r);
        }),
      update: (r: LeaseRecord) =>
        call(() => {
          if (r.resourceVersion !== this.record?.resourceVersion)
            throw Object.assign(new Error('conflict'), { code: 409 });
          return this.write(identity, r);
        }),
    };
    return api;
  }

  private write(by: string, r: LeaseRecord): LeaseRecord {
    this.record = { ...r, resourceVersion: String(++this.rv) };
    this.writes.push(`${by}:${r.holder}`);
    return { ...this.record };
  }
}

const elector = (lease: FakeLease, identity: string, api = lease.client(identity)) => {
  const e = new LeaderElector({ ...TIMINGS, api, identity, log });
  const lost = vi.fn();
  e.onLost(lost);
  return { e, api, lost };
};

describe('LeaderElector', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('creates a missing Lease, leads, and renews it every retry period', async () => {
    const lease = new FakeLease();
    const { e } = elector(lease, 'a');
    const leading = vi.fn();
    void e.whenLeading().then(leading);
    e.start();
    await vi.advanceTimersByTimeAsync(1);
    expect(e.isLeader).toBe(true);
    expect(leading).toHaveBeenCalled();
    expect(lease.record).toMatchObject({ holder: 'a', durationSeconds: 5, transitions: 0 });
    const renewed = lease.record?.renewTime?.getTime() ?? 0;
    await vi.advanceTimersByTimeAsync(2000);
    expect(lease.writes).toHaveLength(5);
    expect(lease.record?.renewTime?.getTime()).toBe(renewed + 2000);
    await e.stop();
  });

  it('a standby waits out the whole lease after it last saw a renewal, then takes over', async () => {
    const lease = new FakeLease();
    const a = elector(lease, 'a');
    const b = elector(lease, 'b');
    a.e.start();
    await vi.advanceTimersByTimeAsync(1);
    b.e.start();
    await vi.advanceTimersByTimeAsync(3000);
    expect([a.e.isLeader, b.e.isLeader]).toEqual([true, false]);
    expect(b.e.holder).toBe('a');

    // The leader's process dies: no release, no more renewals.
    const diedAt = Date.now();
    (a.api as { hang: boolean }).hang = true;
    let tookOverAt = 0;
    void b.e.whenLeading().then(() => {
      tookOverAt = Date.now();
    });
    for (let t = 0; t < 7000 && !tookOverAt; t += 100) {
      await vi.advanceTimersByTimeAsync(100);
      // Never two leaders: the old one steps down (renew deadline) before the lease runs out.
      expect(a.e.isLeader && b.e.isLeader).toBe(false);
    }
    expect(tookOverAt - diedAt).toBeGreaterThanOrEqual(TIMINGS.leaseSeconds * 1000 - TIMINGS.retryPeriodMs);
    expect(tookOverAt - diedAt).toBeLessThanOrEqual(TIMINGS.leaseSeconds * 1000 + TIMINGS.retryPeriodMs);
    expect(lease.record).toMatchObject({ holder: 'b', transitions: 1 });
    expect(a.lost).toHaveBeenCalledOnce();
    await b.e.stop();
  });

  it('steps down when renewals fail, before the lease can have expired for anyone else', async () => {
    const lease = new FakeLease();
    const { e, api, lost } = elector(lease, 'a');
    e.start();
    await vi.advanceTimersByTimeAsync(1);
    const lastRenew = Date.now();
    api.down = true;
    await vi.advanceTimersByTimeAsync(TIMINGS.renewDeadlineMs - 100);
    expect(e.isLeader).toBe(true);
    await vi.advanceTimersByTimeAsync(200);
    expect(e.isLeader).toBe(false);
    expect(lost).toHaveBeenCalledOnce();
    expect(Date.now() - lastRenew).toBeLessThan(TIMINGS.leaseSeconds * 1000);
    // It does not campaign again: the caller restarts the process.
    api.down = false;
    const writes = lease.writes.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(lease.writes).toHaveLength(writes);
  });

  it('steps down at once when it finds another holder in the Lease', async () => {
    const lease = new FakeLease();
    const { e, lost } = elector(lease, 'a');
    e.start();
    await vi.advanceTimersByTimeAsync(1);
    const other = lease.client('x');
    const current = (await other.get()) as LeaseRecord;
    await other.update({ ...current, holder: 'x' });
    await vi.advanceTimersByTimeAsync(TIMINGS.retryPeriodMs);
    expect(e.isLeader).toBe(false);
    expect(lost).toHaveBeenCalledOnce();
  });

  it('a standby whose API call hangs gives up on it and still takes over', async () => {
    const lease = new FakeLease();
    const a = elector(lease, 'a');
    const b = elector(lease, 'b');
    a.e.start();
    await vi.advanceTimersByTimeAsync(1);
    b.api.hang = true;
    b.e.start();
    await vi.advanceTimersByTimeAsync(1000);
    b.api.hang = false;
    (a.api as { hang: boolean }).hang = true;
    await vi.advanceTimersByTimeAsync(TIMINGS.renewDeadlineMs + TIMINGS.leaseSeconds * 1000 + 1000);
    expect(b.e.isLeader).toBe(true);
    await b.e.stop();
  });

  it('hands the lease over on stop, so a standby need not wait it out', async () => {
    const lease = new FakeLease();
    const a = elector(lease, 'a');
    const b = elector(lease, 'b');
    a.e.start();
    await vi.advanceTimersByTimeAsync(1);
    b.e.start();
    await vi.advanceTimersByTimeAsync(1000);
    await a.e.stop();
    expect(lease.record?.holder).toBe('');
    await vi.advanceTimersByTimeAsync(TIMINGS.retryPeriodMs);
    expect(b.e.isLeader).toBe(true);
    expect(a.lost).not.toHaveBeenCalled();
    await b.e.stop();
  });

  it('of two candidates racing for a free Lease, exactly one leads', async () => {
    const lease = new FakeLease();
    const a = elector(lease, 'a');
    const b = elector(lease, 'b');
    a.e.start();
    b.e.start();
    await vi.advanceTimersByTimeAsync(5000);
    expect([a.e.isLeader, b.e.isLeader].filter(Boolean)).toHaveLength(1);
    expect(lease.record?.holder).toBe(a.e.isLeader ? 'a' : 'b');
    await a.e.stop();
    await b.e.stop();
  });
});

describe('timingsProblem', () => {
  it('accepts a renew deadline below the lease and a retry period below the deadline', () => {
    expect(timingsProblem(TIMINGS)).toBeUndefined();
  });
  it('refuses timings that would let two replicas lead at once, or never renew', () => {
    expect(timingsProblem({ ...TIMINGS, renewDeadlineMs: 5000 })).toMatch(/renew deadline must be shorter/);
    expect(timingsProblem({ ...TIMINGS, retryPeriodMs: 3500 })).toMatch(/retry period/);
    expect(timingsProblem({ ...TIMINGS, leaseSeconds: 0 })).toMatch(/whole number of seconds/);
  });
});
