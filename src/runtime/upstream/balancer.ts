/**
 * Least-outstanding-requests balancing: each pick goes to the endpoint with the fewest requests in
 * flight through this gateway; ties rotate so idle replicas share the load evenly.
 */
export class LeastOutstanding<E extends object> {
  private readonly inflight = new Map<string, number>();
  /** Keys by endpoint object: endpoints are immutable values, and a key is needed several times per request. */
  private readonly keys = new WeakMap<E, string>();
  private rotation = 0;

  constructor(private readonly key: (endpoint: E) => string) {}

  keyOf(endpoint: E): string {
    let key = this.keys.get(endpoint);
    if (key === undefined) {
      key = this.key(endpoint);
      this.keys.set(endpoint, key);
    }
    return key;
  }

  /** The endpoint with the fewest requests in flight, skipping the keys in `exclude`. */
  pick(endpoints: readonly E[], exclude?: readonly string[]): E | undefined {
    const n = endpoints.length;
    if (n === 1 && exclude === undefined) return endpoints[0];
    let best: E | undefined;
    let bestCount = Number.POSITIVE_INFINITY;
    const start = this.rotation++ % Math.max(n, 1);
    for (let i = 0; i < n; i++) {
      const e = endpoints[(start + i) % n];
      const key = this.keyOf(e);
      if (exclude?.includes(key)) continue;
      const count = this.inflight.get(key) ?? 0;
      if (count < bestCount) {
        best = e;
        bestCount = count;
      }
    }
    return best;
  }

  /** Counts a request in flight to the endpoint with this key; pair with `releaseKey`. */
  acquireKey(key: string): void {
    this.inflight.set(key, (this.inflight.get(key) ?? 0) + 1);
  }

  releaseKey(key: string): void {
    const left = (this.inflight.get(key) ?? 1) - 1;
    if (left <= 0) this.inflight.delete(key);
    else this.inflight.set(key, left);
  }

  outstanding(endpoint: E): number {
    return this.inflight.get(this.keyOf(endpoint)) ?? 0;
  }
}

/** The replica's agent answered that its inference server is down: nothing ran there. */
export class ReplicaUnavailable extends Error {
  constructor(key: string) {
    super(`${key}: inference server down`);
  }
}

/** Errors that mean the request never reached the upstream, so another replica may be tried. */
export function isConnectFailure(err: unknown): boolean {
  if (err instanceof ReplicaUnavailable) return true;
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
export async function sendWithRetries<E extends object, T>(
  balancer: LeastOutstanding<E>,
  endpoints: readonly E[],
  maxAttempts: number,
  send: (endpoint: E, key: string) => Promise<T>,
  retryable: (err: unknown, key: string) => boolean,
): Promise<T> {
  const attempts: string[] = [];
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const exclude = attempts.length > 0 && attempts.length < endpoints.length ? attempts : undefined;
    const endpoint = balancer.pick(endpoints, exclude) ?? endpoints[0];
    if (!endpoint) break;
    const key = balancer.keyOf(endpoint);
    attempts.push(key);
    balancer.acquireKey(key);
    try {
      return await send(endpoint, key);
    } catch (err) {
      if (!retryable(err, key)) throw err;
    } finally {
      balancer.releaseKey(key);
    }
  }
  throw new ConnectFailure(attempts);
}
