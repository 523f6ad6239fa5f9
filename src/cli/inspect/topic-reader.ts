import { randomUUID } from 'node:crypto';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { kafkaClientSecurity, verifyKafkaSecurity } from '../../runtime/bus/kafka-security.ts';
import type { KafkaSecuritySettings } from '../../spec/kafka-security.ts';

/** A committed record as read back from a topic. */
export interface TopicRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: string;
  headers: Record<string, string>;
  value: Buffer;
}

export interface ReadLatestOptions {
  /** How many of each partition's last records to look at. */
  scan: number;
  timeoutMs: number;
}

/**
 * Reads the tail of topics without committing anything: offsets are looked up first, then a
 * throw-away consumer group seeks each partition to `high - scan` and reads up to `high`.
 */
export class TopicReader {
  private readonly kafka: Kafka;
  private admin?: Admin;
  private readonly security: ReturnType<typeof kafkaClientSecurity>;

  /** Throws a `KafkaSecurityError` when a file the settings name cannot be read. */
  constructor(
    readonly brokers: string[],
    private readonly settings: KafkaSecuritySettings = {},
  ) {
    this.security = kafkaClientSecurity(settings);
    this.kafka = new Kafka({
      clientId: 'mlops-inspect',
      brokers,
      ...this.security,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3000,
      retry: { retries: 2, initialRetryTime: 200 },
    });
  }

  private async connected(): Promise<Admin> {
    if (!this.admin) {
      // A wrong password or an untrusted certificate is reported as such, not as unreachable.
      await verifyKafkaSecurity(this.brokers, this.settings, this.security);
      const admin = this.kafka.admin();
      try {
        await admin.connect();
      } catch (err) {
        throw new Error(`cannot reach Kafka at ${this.brokers.join(',')}: ${(err as Error).message}`);
      }
      this.admin = admin;
    }
    return this.admin;
  }

  async listTopics(): Promise<string[]> {
    return (await (await this.connected()).listTopics()).sort();
  }

  async readLatest(topics: string[], opts: ReadLatestOptions): Promise<TopicRecord[]> {
    const admin = await this.connected();
    const known = new Set(await admin.listTopics());
    const ranges: { topic: string; partition: number; start: number; end: number }[] = [];
    for (const topic of topics.filter((t) => known.has(t))) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        const end = Number(p.high);
        const start = Math.max(Number(p.low), end - opts.scan);
        if (end > start) ranges.push({ topic, partition: p.partition, start, end });
      }
    }
    if (ranges.length === 0) return [];
    const groupId = `mlops-inspect-${randomUUID()}`;
    const consumer = this.kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
    const out: TopicRecord[] = [];
    const pending = new Set(ranges.map((r) => `${r.topic}/${r.partition}`));
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [...new Set(ranges.map((r) => r.topic))] });
      let finish!: () => void;
      const finished = new Promise<void>((r) => {
        finish = r;
      });
      let idle: NodeJS.Timeout | undefined;
      const ended = (topic: string, partition: number) => {
        pending.delete(`${topic}/${partition}`);
        if (pending.size === 0) finish();
      };
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const range = ranges.find((r) => r.topic === batch.topic && r.partition === batch.partition);
          if (!range) return;
          for (const m of batch.messages) {
            const offset = Number(m.offset);
            if (offset < range.start || offset >= range.end) continue;
            out.push({
              topic: batch.topic,
              partition: batch.partition,
              offset,
              timestamp: Number(m.timestamp),
              key: m.key?.toString('utf8') ?? '',
              headers: Object.fromEntries(
                Object.entries(m.headers ?? {}).map(([k, v]) => [
                  k,
                  Array.isArray(v) ? String(v.at(-1)) : String(v ?? ''),
                ]),
              ),
              value: m.value ?? Buffer.alloc(0),
            });
          }
          if (Number(batch.lastOffset()) >= range.end - 1) ended(batch.topic, batch.partition);
          // Transaction markers take offsets too, so the last data record may sit below `end - 1`:
          // a quiet spell after the first batch also ends the read.
          if (idle) clearTimeout(idle);
          idle = setTimeout(finish, 1500);
        },
      });
      for (const r of ranges)
        consumer.seek({ topic: r.topic, partition: r.partition, offset: String(r.start) });
      const timeout = setTimeout(finish, opts.timeoutMs);
      await finished;
      clearTimeout(timeout);
      if (idle) clearTimeout(idle);
    } finally {
      await consumer.disconnect().catch(() => {});
      await admin.deleteGroups([groupId]).catch(() => {});
    }
    return out.sort(
      (a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition || a.offset - b.offset,
    );
  }

  async close(): Promise<void> {
    await this.admin?.disconnect();
  }
}
