import type { JoinType } from '../../spec/types.ts';
import type { Headers } from '../bus/bus.ts';
import type { Payload } from './payload.ts';

export interface Position {
  topic: string;
  partition: number;
  offset: number;
}

export interface Part {
  payload: Payload;
  headers: Headers;
  pos: Position;
}

export interface Joined {
  key: string;
  data: Part[];
  triggers: Part[];
  partition: number;
}

interface Entry {
  key: string;
  data: (Part | undefined)[];
  triggers: (Part | undefined)[];
  opened: number;
  done: boolean;
}

/** Offsets of records held in join/batch state, so the committed position never passes them. */
export class Held {
  private readonly byPartition = new Map<string, Map<number, number>>();

  add(p: Position): void {
    const key = `${p.topic}\u0000${p.partition}`;
    let m = this.byPartition.get(key);
    if (!m) {
      m = new Map();
      this.byPartition.set(key, m);
    }
    m.set(p.offset, (m.get(p.offset) ?? 0) + 1);
  }

  remove(p: Position): void {
    const m = this.byPartition.get(`${p.topic}\u0000${p.partition}`);
    const n = m?.get(p.offset);
    if (!m || n === undefined) return;
    if (n <= 1) m.delete(p.offset);
    else m.set(p.offset, n - 1);
  }

  lowest(topic: string, partition: number): number | undefined {
    const m = this.byPartition.get(`${topic}\u0000${partition}`);
    if (!m || m.size === 0) return undefined;
    let low = Number.POSITIVE_INFINITY;
    for (const o of m.keys()) if (o < low) low = o;
    return low;
  }
}

/** Whether a join of `parts` can emit; `closing`: nothing more will arrive (the window ended). */
export function joinReady(
  join: JoinType,
  parts: readonly (unknown | undefined)[],
  closing: boolean,
): boolean {
  if (parts.length === 0) return true;
  const present = parts.filter((p) => p !== undefined).length;
  if (join === 'any') return present >= 1;
  if (present === parts.length) return true;
  return join === 'outer' && closing && present >= 1;
}

/**
 * Windowed join of a step's sources and triggers, keyed by request: `inner` waits for every
 * source, `outer` emits when all arrived or, at the end of the window, whatever did, `any` emits
 * the first arrival. Triggers are joined among themselves the same way, then inner-joined with the
 * data within the window. Windows are measured from the first record of a key.
 */
export class StepJoin {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly sources: number,
    private readonly triggers: number,
    private readonly inputsJoin: JoinType,
    private readonly triggersJoin: JoinType,
    readonly windowMs: number,
    private readonly held: Held,
  ) {}

  get pending(): number {
    return this.entries.size;
  }

  offer(key: string, role: 'data' | 'trigger', index: number, part: Part, now: number): Joined | undefined {
    let e = this.entries.get(key);
    if (!e) {
      e = {
        key,
        data: new Array(this.sources).fill(undefined),
        triggers: new Array(this.triggers).fill(undefined),
        opened: now,
        done: false,
      };
      this.entries.set(key, e);
    }
    // The window is an upper bound even before the sweep that closes it has run: a late record
    // joins nothing and is not held (the sweep emits what arrived in time).
    if (now - e.opened >= this.windowMs) return undefined;
    const slots = role === 'data' ? e.data : e.triggers;
    // A finished key, or a second record for a filled slot (a replay), adds nothing.
    if (e.done || slots[index]) return undefined;
    slots[index] = part;
    this.held.add(part.pos);
    if (joinReady(this.inputsJoin, e.data, false) && joinReady(this.triggersJoin, e.triggers, false)) {
      return this.finish(e);
    }
    return undefined;
  }

  /**
   * Closes windows that ended by `now`; returns the partial results outer joins emit then, and
   * adds to `dropped` the keys whose window ended without what the join needs.
   */
  expire(now: number, dropped?: string[]): Joined[] {
    const out: Joined[] = [];
    for (const e of this.entries.values()) {
      if (now - e.opened < this.windowMs) continue;
      this.entries.delete(e.key);
      if (e.done) continue;
      if (joinReady(this.inputsJoin, e.data, true) && joinReady(this.triggersJoin, e.triggers, true)) {
        out.push(this.finish(e));
      } else {
        for (const p of [...e.data, ...e.triggers]) if (p) this.held.remove(p.pos);
        dropped?.push(e.key);
      }
    }
    return out;
  }

  private finish(e: Entry): Joined {
    e.done = true;
    const data = e.data.filter((p): p is Part => p !== undefined);
    const triggers = e.triggers.filter((p): p is Part => p !== undefined);
    for (const p of [...data, ...triggers]) this.held.remove(p.pos);
    // Only `any` can see more records for a finished key inside the window: remember it until then.
    if (this.inputsJoin !== 'any' && this.triggersJoin !== 'any') this.entries.delete(e.key);
    else {
      e.data.fill(undefined);
      e.triggers.fill(undefined);
    }
    return { key: e.key, data, triggers, partition: (data[0] ?? triggers[0]).pos.partition };
  }
}
