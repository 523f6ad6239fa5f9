import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';

/** One committed record as an independent `read_committed` reader sees it. */
export interface SeenRecord {
  key: string;
  partition: number;
  offset: number;
  headers: Record<string, string>;
  value: Buffer;
}

/**
 * Every committed record of `topics`, read from the beginning by a fresh `read_committed`
 * consumer (its own group, kafkajs directly: nothing of the code under test), until every topic
 * in `toEnd` (written without transactions, so its last offset holds a record) was read up to
 * the end it had when the read began, `done` says enough arrived, and nothing new came for
 * `quietMs`; at most `timeoutMs`.
 */
export async function readCommitted(
  brokers: string[],
  topics: string[],
  opts: {
    toEnd?: string[];
    done?: (seen: Map<string, SeenRecord[]>) => boolean;
    quietMs?: number;
    timeoutMs?: number;
  } = {},
): Promise<Map<string, SeenRecord[]>> {
  const { toEnd = [], done = () => true, quietMs = 1500, timeoutMs = 30_000 } = opts;
  const kafka = new Kafka({ brokers, clientId: 'delivery-oracle', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  /** topic:partition → the offset the reader must pass. */
  const ends = new Map<string, number>();
  for (const t of toEnd) {
    for (const p of await admin.fetchTopicOffsets(t)) ends.set(`${t}:${p.partition}`, Number(p.high));
  }
  const reached = () => [...ends].every(([at, high]) => (next.get(at) ?? 0) >= high);
  const next = new Map<string, number>();
  const groupId = `delivery-oracle-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 100 });
  const seen = new Map<string, SeenRecord[]>(topics.map((t) => [t, []]));
  // A rebalance may hand the reader a batch twice: a position counts once.
  const positions = new Set<string>();
  let last = Date.now();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const at = `${batch.topic}:${batch.partition}:${m.offset}`;
          if (positions.has(at)) continue;
          positions.add(at);
          last = Date.now();
          const tp = `${batch.topic}:${batch.partition}`;
          next.set(tp, Math.max(next.get(tp) ?? 0, Number(m.offset) + 1));
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = String(v);
          seen.get(batch.topic)?.push({
            key: m.key?.toString() ?? '',
            partition: batch.partition,
            offset: Number(m.offset),
            headers,
            value: m.value ?? Buffer.alloc(0),
          });
        }
      },
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      if (Date.now() > deadline) break;
      if (Date.now() - last >= quietMs && reached() && done(seen)) break;
    }
  } finally {
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.disconnect();
  }
  return seen;
}

export interface OracleVerdict {
  inputs: number;
  outputs: number;
  /** Keys on the input topic with no output. */
  lost: string[];
  /** Keys with more than one output. */
  duplicated: string[];
  /** Output keys that were never an input. */
  unexpected: string[];
  /** Outputs that are error records. */
  errors: string[];
  /** Acknowledged requests (by request id) that are not on the input topic. */
  unrecorded: string[];
}

/**
 * Kafka's TransactionsTest oracle for a pipeline: the set of request keys on its input topic
 * equals the set of keys on its output topic, with exactly one output per key and no error
 * output; and every acknowledged request is on the input topic.
 */
export function verdict(
  inputs: SeenRecord[],
  outputs: SeenRecord[],
  acknowledged: Iterable<string>,
  idHeader: string,
  errorHeader: string,
): OracleVerdict {
  const inKeys = new Set(inputs.map((r) => r.key));
  const counts = new Map<string, number>();
  for (const r of outputs) counts.set(r.key, (counts.get(r.key) ?? 0) + 1);
  const ids = new Set(inputs.map((r) => r.headers[idHeader]));
  const describe = (key: string) => {
    const id = inputs.find((r) => r.key === key)?.headers[idHeader];
    return id ? `${key} (${id})` : key;
  };
  return {
    inputs: inKeys.size,
    outputs: outputs.length,
    lost: [...inKeys].filter((k) => !counts.has(k)).map(describe),
    duplicated: [...counts].filter(([, n]) => n > 1).map(([k, n]) => `${describe(k)} ×${n}`),
    unexpected: [...counts.keys()].filter((k) => !inKeys.has(k)),
    errors: outputs.filter((r) => r.headers[errorHeader]).map((r) => `${describe(r.key)}: ${r.value}`),
    unrecorded: [...acknowledged].filter((id) => !ids.has(id)),
  };
}
