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

export class ConnectFailure extends Error {
  constructor(readonly attempts: string[]) {
    super(`no replica reachable (tried ${attempts.join(', ')})`);
  }
}

/**
 * Sends to the least busy replica and moves to another one only when `send` fails before the
 * request reached it (`retryable`); other errors go to the caller untouched.
 */
export async function sendWithRetries<E, T>(
  balancer: LeastOutstanding<E>,
  endpoints: readonly E[],
  maxAttempts: number,
  keyOf: (e: E) => string,
  send: (endpoint: E, key: string) => Promise<T>,
  retryable: (err: unknown, key: string) => boolean,
): Promise<T> {
  const tried = new Set<string>();
  const attempts: string[] = [];
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const endpoint =
      balancer.pick(endpoints, tried.size < endpoints.length ? tried : undefined) ?? endpoints[0];
    if (!endpoint) break;
    const key = keyOf(endpoint);
    tried.add(key);
    attempts.push(key);
    const release = balancer.acquire(endpoint);
    try {
      return await send(endpoint, key);
    } catch (err) {
      if (!retryable(err, key)) throw err;
    } finally {
      release();
    }
  }
  throw new ConnectFailure(attempts);
}
