import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ServerWatch } from '../../../src/runtime/agent/server-watch.ts';

describe('ServerWatch', () => {
  it('a missed health check is not a restart; three are, and so is one unreachable request', async () => {
    let ready = true;
    const events: string[] = [];
    const watch = new ServerWatch({
      ready: async () => ready,
      onDown: () => events.push('down'),
      onUp: async () => void events.push('up'),
      log: pino({ level: 'silent' }),
    });
    const poll = () => (watch as unknown as { check(): Promise<void> }).check();
    ready = false;
    await poll();
    await poll();
    expect([watch.up, events]).toEqual([true, []]);
    await poll();
    expect([watch.up, events]).toEqual([false, ['down']]);
    ready = true;
    await poll();
    expect([watch.up, events]).toEqual([true, ['down', 'up']]);
    ready = false;
    await watch.unreachable();
    expect([watch.up, events]).toEqual([false, ['down', 'up', 'down']]);
  });
});
