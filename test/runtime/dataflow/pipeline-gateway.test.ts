import { describe, expect, it } from 'vitest';
import type { Bus } from '../../../src/runtime/bus/bus.ts';
import { MemoryBus } from '../../../src/runtime/bus/memory-bus.ts';
import { PipelineGateway } from '../../../src/runtime/dataflow/pipeline-gateway.ts';
import { DEFAULT_NAMING } from '../../../src/spec/topics.ts';
import { silent } from './fixtures.ts';

/** A bus whose broker is away: publishes are retried and never acknowledged. */
function unreachable(): Bus {
  const bus = new MemoryBus();
  bus.publish = () => new Promise(() => {});
  return bus;
}

describe('PipelineGateway', () => {
  it('fails a call at its timeout while the publish is still being retried, and keeps serving', async () => {
    const gateway = new PipelineGateway(unreachable(), DEFAULT_NAMING, ['p'], silent, 50);
    await gateway.start();
    const started = Date.now();
    // The old gateway left this call waiting on the publish, and its timeout rejected with no one
    // listening: an unhandled rejection that stopped the whole dataflow process.
    await expect(gateway.infer('p', Buffer.alloc(0), {})).rejects.toMatchObject({ status: 504 });
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(gateway.infer('p', Buffer.alloc(0), {})).rejects.toMatchObject({ status: 504 });
    expect(gateway.inflight).toBe(0);
    await gateway.stop();
  });

  it('fails a call with 503 when the publish fails', async () => {
    const bus = new MemoryBus();
    bus.publish = () => Promise.reject(new Error('broker gone'));
    const gateway = new PipelineGateway(bus, DEFAULT_NAMING, ['p'], silent, 5000);
    await gateway.start();
    await expect(gateway.infer('p', Buffer.alloc(0), {})).rejects.toMatchObject({ status: 503 });
    expect(gateway.inflight).toBe(0);
    await gateway.stop();
  });
});
