/**
 * The message bus the dataflow runs on: Kafka (kafkajs) in a cluster, or in-process for local
 * runs and tests. Both give the same delivery contract:
 *
 * - `publish` is acknowledged only once the records are durable (idempotent producer, acks=all).
 * - A consumer's `process` returns the records it derives from a batch; they are published and
 *   the batch marked consumed **in one transaction**, so after a crash the batch is either fully
 *   reprocessed (and its earlier outputs were never visible) or not at all.
 * - Records a handler still holds in memory (join windows, batches) are reported through
 *   `retained`; the committed position never passes them, so a restart replays them.
 */
export type Headers = Record<string, string>;

export interface BusRecord {
  topic: string;
  partition: number;
  offset: number;
  key: string;
  value: Buffer;
  headers: Headers;
  /** When the record was appended (ms since the epoch). */
  timestamp: number;
}

export interface OutRecord {
  topic: string;
  key: string;
  value: Buffer;
  headers?: Headers;
  /** Pins the partition (e.g. the partition the request came from); by key hash otherwise. */
  partition?: number;
}

export interface ConsumeOptions {
  /** Consumer group: the committed position is shared by every consumer of the group. */
  group: string;
  topics: string[];
  /**
   * Where a brand-new group starts: the beginning, or only records written from now on. A group
   * that has committed before resumes there (and reads partitions it never committed from 0).
   */
  fromBeginning?: boolean;
  /**
   * Reads without committing positions or publishing (`process` returns nothing): for a group
   * that is never resumed, such as one per process instance reading from the end.
   */
  readOnly?: boolean;
  /** Records of one partition, in offset order. Returns what to publish atomically with them. */
  /**
   * A handler that reports `retained` answers synchronously: its outputs are queued for the next
   * transaction in the same step as the positions it releases.
   */
  process(records: BusRecord[]): Promise<OutRecord[]> | OutRecord[];
  /**
   * Told the records of each transaction once it committed: a reader in the same process can act
   * on them at once instead of reading them back from the topic.
   */
  committed?(records: OutRecord[]): void;
  /** Lowest offset of `topic`/`partition` still needed in memory, if any. */
  retained?(topic: string, partition: number): number | undefined;
  /** Told after each batch how many records of its partition remain unread behind it (lag). */
  onLag?(topic: string, partition: number, records: number): void;
  /**
   * Outputs of processed records could not be committed (they will be delivered again): a handler
   * whose memory already reflects them must rebuild its state.
   */
  onAbort?(): void;
}

export interface Consumer {
  /** Publishes records produced outside `process` (e.g. when a join window closes), committing the consumed position with them. */
  emit(records: OutRecord[]): Promise<void>;
  /** Resolves once the consumer has partitions assigned and its start positions fixed. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export interface Bus {
  ensureTopics(topics: string[]): Promise<void>;
  /** Deletes topics and everything in them (a deleted pipeline's, when it asks for that). */
  deleteTopics(topics: string[]): Promise<void>;
  publish(records: OutRecord[]): Promise<void>;
  consume(opts: ConsumeOptions): Promise<Consumer>;
  /** Committed records of `topic` appended since `sinceMs`, up to its current end (state restore). */
  readSince(topic: string, sinceMs: number): Promise<BusRecord[]>;
  close(): Promise<void>;
}

/** FNV-1a: a stable key → partition mapping for the in-process bus. */
export function partitionFor(key: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}
