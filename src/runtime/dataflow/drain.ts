import { HEADER_PIPELINE } from '../../spec/headers.ts';
import type { TopicNaming } from '../../spec/topics.ts';
import type { BusRecord } from '../bus/bus.ts';

/**
 * The requests an engine over topics has started and not yet answered, so that a changed
 * pipeline rolls out as a new version: once sealed, the engine starts no new request (records
 * entering the pipeline are held back, uncommitted, for the next version's engine to read) but
 * keeps running its steps for those already under way, and `sealed` resolves when the last one is
 * answered (or the deadline passes: a request that never reaches the output, such as one a
 * conditional step dropped, must not hold the rollout back forever).
 *
 * A request enters through a pipeline topic (its own inputs, or another pipeline's) and travels
 * on model topics under its key; partitions are kept along the way, so the engine that started a
 * request sees all of it.
 */
export class Drain {
  /** Request key → when it entered. */
  private readonly open = new Map<string, number>();
  private readonly heldFrom = new Map<string, number>();
  private readonly pipelineTopics: string;
  private sealing?: { deadline: number; resolve: () => void };
  private entered = 0;

  constructor(
    naming: TopicNaming,
    private readonly now: () => number = Date.now,
    /** Requests older than this are no longer waited for. */
    private readonly maxAgeMs = 30_000,
  ) {
    this.pipelineTopics = `${naming.prefix}.${naming.namespace}.pipeline.`;
  }

  get isSealed(): boolean {
    return this.sealing !== undefined;
  }

  /** Requests started and not answered yet. */
  get inFlight(): number {
    return this.open.size;
  }

  /**
   * Whether the engine may handle `r`: false for a new request once sealed (it is held back: the
   * committed position stays before it, see `retained`).
   */
  admit(r: BusRecord): boolean {
    if (!r.topic.startsWith(this.pipelineTopics)) return true;
    // `<prefix>.<ns>.pipeline.<p>.<io>` carries requests of <p> only; anything else is ignored.
    const pipeline = r.topic.slice(this.pipelineTopics.length, r.topic.lastIndexOf('.'));
    if (r.headers[HEADER_PIPELINE] !== pipeline) return true;
    if (this.sealing) {
      const key = `${r.topic}\u0000${r.partition}`;
      if (!this.heldFrom.has(key)) this.heldFrom.set(key, r.offset);
      return false;
    }
    this.open.set(r.key, this.now());
    if (++this.entered % 1024 === 0) this.forgetOld();
    return true;
  }

  /** Lowest offset held back on a partition: the next version's engine starts there. */
  retained(topic: string, partition: number): number | undefined {
    return this.heldFrom.get(`${topic}\u0000${partition}`);
  }

  /** Outputs committed for these requests: they are answered. */
  answered(keys: Iterable<string>): void {
    for (const k of keys) this.open.delete(k);
    this.check();
  }

  /** Starts no new request from now on; resolves once every request under way was answered. */
  seal(): Promise<void> {
    return new Promise((resolve) => {
      this.sealing = { deadline: this.now() + this.maxAgeMs, resolve };
      const tick = setInterval(() => this.check(), 50);
      tick.unref();
      const done = resolve;
      this.sealing.resolve = () => {
        clearInterval(tick);
        done();
      };
      this.check();
    });
  }

  private check(): void {
    if (!this.sealing) return;
    this.forgetOld();
    if (this.open.size === 0 || this.now() >= this.sealing.deadline) this.sealing.resolve();
  }

  private forgetOld(): void {
    const oldest = this.now() - this.maxAgeMs;
    for (const [k, at] of this.open) {
      // Insertion order is entry order: the rest are younger.
      if (at > oldest) break;
      this.open.delete(k);
    }
  }
}
