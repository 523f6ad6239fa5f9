import { describe, expect, it } from 'vitest';
import { ReconnectBackoff } from '../../../src/runtime/protocol/reconnect.ts';

describe('ReconnectBackoff', () => {
  it('retries quickly, jittered, capped low while the scheduler is expected, slower after', () => {
    let now = 0;
    const top = new ReconnectBackoff(
      undefined,
      () => 1,
      () => now,
    );
    expect([top.next(), top.next(), top.next(), top.next(), top.next()]).toEqual([50, 100, 200, 250, 250]);
    const low = new ReconnectBackoff(
      undefined,
      () => 0,
      () => now,
    );
    expect([low.next(), low.next(), low.next()]).toEqual([25, 50, 100]);
    now = 31_000;
    for (let i = 0; i < 10; i++) top.next();
    expect(top.next()).toBe(2000);
    top.reset();
    expect(top.next()).toBe(50);
  });
});
