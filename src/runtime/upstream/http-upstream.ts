import type http from 'node:http';
import { type Dispatcher, Pool } from 'undici';
import { HEADER_REPLICA_UNAVAILABLE } from '../../spec/headers.ts';
import type { Endpoint } from '../protocol/control.ts';
import { isConnectFailure, type LeastOutstanding, ReplicaUnavailable, sendWithRetries } from './balancer.ts';

export interface UpstreamResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'te',
  'trailer',
  'expect',
]);

export function forwardableHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  // `for...in` rather than `Object.entries`: no array per header on the hot path.
  for (const k in headers) {
    const v = headers[k];
    if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  }
  return out;
}

export const endpointKey = (e: Endpoint): string => `${e.host}:${e.httpPort}`;

/**
 * Sends buffered HTTP requests to replicas over kept-alive connections, choosing the least busy
 * replica and moving to another one only when the connection itself fails.
 */
export class HttpUpstream {
  private readonly pools = new Map<string, Pool>();

  constructor(
    private readonly balancer: LeastOutstanding<Endpoint>,
    private readonly maxAttempts = 3,
  ) {}

  async send(
    endpoints: readonly Endpoint[],
    method: string,
    path: string,
    headers: http.OutgoingHttpHeaders,
    body: Buffer | undefined,
    timeoutMs = 0,
  ): Promise<UpstreamResponse> {
    return sendWithRetries(
      this.balancer,
      endpoints,
      this.maxAttempts,
      (endpoint) => this.once(endpoint, method, path, headers, body, timeoutMs),
      (err) => err instanceof RetryableError,
    );
  }

  private pool(e: Endpoint): Pool {
    const key = endpointKey(e);
    let pool = this.pools.get(key);
    if (!pool) {
      // Idle connections are dropped after 4 s unless the replica's Keep-Alive hint says longer:
      // servers that close them silently (uvicorn: 5 s) would otherwise reset a reused one.
      pool = new Pool(`http://${key}`, { connections: 128, pipelining: 1, keepAliveTimeout: 4_000 });
      this.pools.set(key, pool);
    }
    return pool;
  }

  private async once(
    e: Endpoint,
    method: string,
    path: string,
    headers: http.OutgoingHttpHeaders,
    body: Buffer | undefined,
    timeoutMs: number,
  ): Promise<UpstreamResponse> {
    try {
      const res = await this.pool(e).request({
        method: method as Dispatcher.HttpMethod,
        path,
        headers: headers as Record<string, string>,
        body,
        headersTimeout: timeoutMs || undefined,
        bodyTimeout: timeoutMs || undefined,
      });
      const bytes = Buffer.from(await res.body.arrayBuffer());
      // The agent answered for an inference server that is down: nothing ran, try another replica.
      if (res.statusCode === 503 && res.headers[HEADER_REPLICA_UNAVAILABLE])
        throw new RetryableError(new ReplicaUnavailable(endpointKey(e)));
      return { status: res.statusCode, headers: res.headers as http.IncomingHttpHeaders, body: bytes };
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
        throw Object.assign(new Error('upstream timed out'), { code: 'ETIMEDOUT' });
      }
      if (isConnectFailure(err) || isConnectFailure((err as { cause?: unknown }).cause))
        throw new RetryableError(err);
      throw err;
    }
  }

  close(): void {
    for (const pool of this.pools.values()) void pool.destroy();
    this.pools.clear();
  }
}

class RetryableError extends Error {
  constructor(cause: unknown) {
    super('connect failure', { cause });
  }
}
