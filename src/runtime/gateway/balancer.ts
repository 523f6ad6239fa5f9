/**
 * Least-outstanding-requests balancing: each pick goes to the endpoint with the fewest requests in
 * flight through this gateway; ties rotate so idle replicas share the load evenly.
 */
export class LeastOutstanding<E> {
  private readonly inflight = new Map<string, number>();
  private rotation = 0;

  constructor(private readonly keyOf: (endpoint: E) => string) {}

  pick(endpoints: readonly E[], exclude?: ReadonlySet<string>): E | undefined {
    let best: E | undefined;
    let bestCount = Number.POSITIVE_INFINITY;
    const n = endpoints.length;
    const start = this.rotation++ % Math.max(n, 1);
    for (let i = 0; i < n; i++) {
      const e = endpoints[(start + i) % n];
      const key = this.keyOf(e);
      if (exclude?.has(key)) continue;
      const count = this.inflight.get(key) ?? 0;
      if (count < bestCount) {
        best = e;
        bestCount = count;
      }
    }
    return best;
  }

  acquire(endpoint: E): () => void {
    const key = this.keyOf(endpoint);
    this.inflight.set(key, (this.inflight.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inflight.get(key) ?? 1) - 1;
      if (left <= 0) this.inflight.delete(key);
      else this.inflight.set(key, left);
    };
  }

  outstanding(endpoint: E): number {
    return this.inflight.get(this.keyOf(endpoint)) ?? 0;
  }
}

/** Errors that mean the request never reached the upstream, so another replica may be tried. */
export function isConnectFailure(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return true;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ECONNABORTED') return true;
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return true;
  return code === 'ERR_HTTP2_GOAWAY_SESSION' || code === 'ERR_HTTP2_INVALID_SESSION';
}
