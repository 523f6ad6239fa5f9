import { describe, expect, it } from 'vitest';
import type { BusRecord } from '../../../src/runtime/bus/bus.ts';
import { MemoryBus } from '../../../src/runtime/bus/memory-bus.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rec = (key: string) => ({ topic: 'in', key, value: Buffer.from(key) });

describe('MemoryBus', () => {
  it('publishes outputs and commits the batch together; a failed batch is delivered again', async () => {
    const bus = new MemoryBus(1);
    let failures = 1;
    const seen: string[] = [];
    const c = await bus.consume({
      group: 'g',
      topics: ['in'],
      process: (records: BusRecord[]) => {
        seen.push(...records.map((r) => r.key));
        if (failures-- > 0) throw new Error('transient');
        return records.map((r) => ({ topic: 'out', key: r.key, value: r.value }));
      },
    });
    await bus.publish([rec('a'), rec('b')]);
    await sleep(150);
    expect(seen).toEqual(['a', 'b', 'a', 'b']);
    expect(bus.read('out').map((r) => r.key)).toEqual(['a', 'b']);
    await c.close();
  });

  it('resumes a group from its committed position, never past retained offsets', async () => {
    const bus = new MemoryBus(1);
    await bus.ensureTopics(['in']);
    const hold = new Set<number>();
    const first: string[] = [];
    const c1 = await bus.consume({
      group: 'g',
      topics: ['in'],
      process: (records) => {
        for (const r of records) {
          first.push(r.key);
          if (r.key === 'b') hold.add(r.offset);
        }
        return [];
      },
      retained: () => (hold.size ? Math.min(...hold) : undefined),
    });
    await bus.publish([rec('a'), rec('b'), rec('c')]);
    await sleep(30);
    await c1.close();
    expect(first).toEqual(['a', 'b', 'c']);
    const second: string[] = [];
    const c2 = await bus.consume({
      group: 'g',
      topics: ['in'],
      process: (records) => {
        second.push(...records.map((r) => r.key));
        return [];
      },
    });
    await sleep(30);
    expect(second).toEqual(['b', 'c']);
    await expect(bus.consume({ group: 'g', topics: ['in'], process: () => [] })).rejects.toThrow(
      /already has a consumer/,
    );
    await c2.close();
  });

  it('keeps one key on one partition and honours pinned partitions', async () => {
    const bus = new MemoryBus(4);
    await bus.publish([rec('k'), rec('k'), { ...rec('x'), partition: 3 }]);
    const records = bus.read('in');
    const k = records.filter((r) => r.key === 'k');
    expect(k[0].partition).toBe(k[1].partition);
    expect(k.map((r) => r.offset)).toEqual([0, 1]);
    expect(records.find((r) => r.key === 'x')?.partition).toBe(3);
  });
});
