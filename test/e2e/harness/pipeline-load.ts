import { HEADER_REQUEST_ID } from '../../../src/spec/headers.ts';

/** One pipeline under load: its REST endpoint and what it must answer for input `i`. */
export interface LoadTarget {
  /** For messages, e.g. `ns/pipeline`. */
  label: string;
  url: string;
  expected(i: number): number;
  /** Publishes a request straight to the pipeline's input topic (the asynchronous path), resolving on its acknowledgement. */
  publish(id: string, i: number): Promise<void>;
}

interface Call {
  started: number;
  settled: Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Closed-loop callers for one pipeline, as a client that retries: request `i` is sent (request id
 * `<label>#i.attempt`) until it is answered with 200; each error is recorded and retried after a
 * short pause. Next to them, an asynchronous publisher writes requests straight to the input
 * topic. Acknowledged request ids (a 200, or an acknowledged publish) are kept for the oracle.
 */
export class PipelineLoad {
  readonly acknowledged = new Set<string>();
  readonly errors: string[] = [];
  /** Answers with a wrong value, and calls that neither answered nor failed in time. */
  readonly wrong: string[] = [];
  readonly hung: string[] = [];
  private readonly answers: { started: number; at: number }[] = [];
  private readonly inflight = new Set<Call>();
  private next = 0;
  private asyncNext = 0;
  private stopped = false;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly target: LoadTarget,
    private readonly callTimeoutMs: number,
    private readonly callers = 2,
    private readonly asyncEveryMs = 100,
  ) {}

  start(): void {
    this.stopped = false;
    this.running = Promise.all([
      ...Array.from({ length: this.callers }, () => this.caller()),
      this.publisher(),
    ]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  get answered(): number {
    return this.answers.length;
  }

  /** When the first call started at or after `t` was answered, if one was. */
  firstAnswerAfter(t: number): number | undefined {
    const after = this.answers.filter((a) => a.started >= t).map((a) => a.at);
    return after.length ? Math.min(...after) : undefined;
  }

  /** One call outside the load (a warm-up): true when it was answered. */
  callOnce(): Promise<boolean> {
    return this.call(this.next++, 1);
  }

  /** The calls in flight now, each settling once answered or failed. */
  callsInFlight(): Promise<void>[] {
    return [...this.inflight].map((c) => c.settled);
  }

  private async caller(): Promise<void> {
    while (!this.stopped) {
      const i = this.next++;
      for (let attempt = 1; !this.stopped || attempt === 1; attempt++) {
        if (await this.call(i, attempt)) break;
        await sleep(100);
      }
    }
  }

  private async call(i: number, attempt: number): Promise<boolean> {
    const id = `${this.target.label}#${i}.${attempt}`;
    const started = Date.now();
    let settle!: () => void;
    const entry: Call = { started, settled: new Promise((r) => (settle = r)) };
    this.inflight.add(entry);
    try {
      const res = await fetch(this.target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [HEADER_REQUEST_ID]: id },
        body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [i] }] }),
        signal: AbortSignal.timeout(this.callTimeoutMs),
      });
      const text = await res.text();
      if (res.status !== 200) {
        this.errors.push(`${id}: ${res.status} ${text.slice(0, 200)}`);
        return false;
      }
      const value = (JSON.parse(text) as { outputs: { data: number[] }[] }).outputs[0].data[0];
      if (value !== this.target.expected(i)) this.wrong.push(`${id}: answered ${value}`);
      this.acknowledged.add(id);
      this.answers.push({ started, at: Date.now() });
      return true;
    } catch (err) {
      const e = err as Error;
      if (e.name === 'TimeoutError') this.hung.push(`${id}: no answer nor error in ${this.callTimeoutMs} ms`);
      this.errors.push(`${id}: ${e.message} ${(e.cause as Error | undefined)?.message ?? ''}`);
      return false;
    } finally {
      this.inflight.delete(entry);
      settle();
    }
  }

  private async publisher(): Promise<void> {
    while (!this.stopped) {
      const n = this.asyncNext++;
      const id = `${this.target.label}#async${n}`;
      try {
        await this.target.publish(id, n);
        this.acknowledged.add(id);
      } catch (err) {
        this.errors.push(`${id}: publish failed: ${(err as Error).message}`);
      }
      await sleep(this.asyncEveryMs);
    }
  }
}
