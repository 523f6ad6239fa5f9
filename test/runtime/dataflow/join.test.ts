import { describe, expect, it } from 'vitest';
import { Held, type Part, StepJoin } from '../../../src/runtime/dataflow/join.ts';

const part = (topic: string, offset: number): Part => ({
  payload: { id: 'r1', tensors: [] },
  headers: {},
  pos: { topic, partition: 0, offset },
});

describe('StepJoin windows', () => {
  it('joins the sides that arrive before the window ends', () => {
    const join = new StepJoin(2, 0, 'inner', 'inner', 100, new Held());
    expect(join.offer('k', 'data', 0, part('a', 1), 0)).toBeUndefined();
    expect(join.offer('k', 'data', 1, part('b', 7), 99)).toMatchObject({ key: 'k', data: [{}, {}] });
  });

  it('does not join a record that arrives after the window, even before the window is swept', () => {
    const held = new Held();
    const join = new StepJoin(2, 0, 'inner', 'inner', 100, held);
    join.offer('k', 'data', 0, part('a', 1), 0);
    expect(join.offer('k', 'data', 1, part('b', 7), 100)).toBeUndefined();
    // The late record is not held: the committed position may pass it.
    expect(held.lowest('b', 0)).toBeUndefined();
    const dropped: string[] = [];
    expect(join.expire(100, dropped)).toEqual([]);
    // Reported, so the engine can say which request ended here.
    expect(dropped).toEqual(['k']);
    expect(held.lowest('a', 0)).toBeUndefined();
    expect(join.pending).toBe(0);
  });

  it('outer: the window closes with what arrived in time, not the late record', () => {
    const join = new StepJoin(2, 0, 'outer', 'inner', 100, new Held());
    join.offer('k', 'data', 0, part('a', 1), 0);
    expect(join.offer('k', 'data', 1, part('b', 7), 250)).toBeUndefined();
    const dropped: string[] = [];
    const [partial, ...rest] = join.expire(250, dropped);
    expect(rest).toEqual([]);
    expect(dropped).toEqual([]);
    expect(partial.data.map((p) => p.pos.topic)).toEqual(['a']);
  });
});
