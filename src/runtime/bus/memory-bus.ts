import type { Bus, BusRecord, ConsumeOptions, Consumer, OutRecord } from './bus.ts';
import { partitionFor } from './bus.ts';

interface Group {
  committed: Map<string, number>;
  active: boolean;
}

/**
 * An in-process bus with Kafka's semantics where the dataflow depends on them: partitioned,
 * ordered logs; consumer groups with committed positions; atomic publish-and-commit; replay of
 * everything after the committed position when a consumer is closed without committing.
 */
export class MemoryBus implements Bus {
  private readonly topics = new Map<string, BusRecord[][]>();
  private readonly groups = new Map<string, Group>();
  private readonly listeners = new Set<() => void>();

  constructor(private readonly partitions = 1) {}

  async ensureTopics(topics: string[]): Promise<void> {
    for (const t of topics) this.log(t);
  }

  async deleteTopics(topics: string[]): Promise<void> {
    for (const t of topics) this.topics.delete(t);
  }

  /** Whether a topic exists: for tests. */
  has(topic: string): boolean {
    return this.topics.has(topic);
  }

  async publish(records: OutRecord[]): Promise<void> {
    this.append(records);
  }

  /** Every record of a topic, all partitions, in (partition, offset) order: for tests and inspection. */
  read(topic: string): BusRecord[] {
    return (this.topics.get(topic) ?? []).flat();
  }

  async readSince(topic: string, sinceMs: number): Promise<BusRecord[]> {
    return this.read(topic).filter((r) => r.timestamp >= sinceMs);
  }

  private log(topic: string): BusRecord[][] {
    let log = this.topics.get(topic);
    if (!log) {
      log = Array.from({ length: this.partitions }, () => []);
      this.topics.set(topic, log);
    }
    return log;
  }

  private append(records: OutRecord[]): void {
    if (records.length === 0) return;
    for (const r of records) {
      const log = this.log(r.topic);
      const partition =
        r.partition !== undefined && r.partition < log.length ? r.partition : partitionFor(r.key, log.length);
      const part = log[partition];
      part.push({
        topic: r.topic,
        partition,
        offset: part.length,
        key: r.key,
        value: r.value,
        headers: { ...(r.headers ?? {}) },
        timestamp: Date.now(),
      });
    }
    for (const l of this.listeners) l();
  }

  async consume(opts: ConsumeOptions): Promise<Consumer> {
    let group = this.groups.get(opts.group);
    if (!group) {
      group = { committed: new Map(), active: false };
      this.groups.set(opts.group, group);
    }
    if (group.active) throw new Error(`consumer group "${opts.group}" already has a consumer on this bus`);
    group.active = true;
    const g = group;
    const position = new Map<string, number>();
    // Only a brand-new group skips history; a known one reads partitions it never committed from 0.
    const fresh = g.committed.size === 0;
    for (const topic of opts.topics) {
      this.log(topic).forEach((part, p) => {
        const key = `${topic}\u0000${p}`;
        position.set(key, g.committed.get(key) ?? (opts.fromBeginning || !fresh ? 0 : part.length));
      });
    }
    let closed = false;
    let running = false;
    let again = false;

    const commitPosition = () => {
      for (const [key, pos] of position) {
        const [topic, p] = key.split('\u0000');
        const held = opts.retained?.(topic, Number(p));
        g.committed.set(key, held === undefined ? pos : Math.min(pos, held));
      }
    };

    const pump = async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          for (const [key, pos] of position) {
            if (closed) return;
            const [topic, p] = key.split('\u0000');
            const part = this.log(topic)[Number(p)];
            if (pos >= part.length) continue;
            const batch = part.slice(pos);
            try {
              const outputs = await opts.process(batch);
              if (closed) return;
              position.set(key, pos + batch.length);
              opts.onLag?.(batch[0].topic, batch[0].partition, part.length - pos - batch.length);
              // Transaction: outputs become visible together with the new committed position.
              this.append(outputs);
              commitPosition();
              if (outputs.length) opts.committed?.(outputs);
            } catch {
              // Like an aborted transaction: the batch will be delivered again.
              opts.onAbort?.();
              again = true;
              await new Promise((r) => setTimeout(r, 50));
            }
          }
        } while (again && !closed);
      } finally {
        running = false;
      }
    };
    const listener = () => {
      if (!closed) setImmediate(pump);
    };
    this.listeners.add(listener);
    listener();
    return {
      emit: async (records) => {
        if (closed) throw new Error('consumer closed');
        this.append(records);
        commitPosition();
        if (records.length) opts.committed?.(records);
      },
      ready: async () => {},
      close: async () => {
        closed = true;
        this.listeners.delete(listener);
        g.active = false;
      },
    };
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
