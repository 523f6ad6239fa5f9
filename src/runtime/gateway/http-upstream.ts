import http from 'node:http';
import type { Endpoint } from '../protocol/control.ts';
import { isConnectFailure, type LeastOutstanding } from './balancer.ts';

export interface UpstreamResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export class ConnectFailure extends Error {
  constructor(readonly attempts: string[]) {
    super(`no replica reachable (tried ${attempts.join(', ')})`);
  }
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
]);

export function forwardableHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
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
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 });

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
    const tried = new Set<string>();
    const attempts: string[] = [];
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const endpoint =
        this.balancer.pick(endpoints, tried.size < endpoints.length ? tried : undefined) ?? endpoints[0];
      if (!endpoint) break;
      const key = endpointKey(endpoint);
      tried.add(key);
      attempts.push(key);
      const release = this.balancer.acquire(endpoint);
      try {
        return await this.once(endpoint, method, path, headers, body, timeoutMs);
      } catch (err) {
        if (!(err instanceof RetryableError)) throw err;
      } finally {
        release();
      }
    }
    throw new ConnectFailure(attempts);
  }

  private once(
    e: Endpoint,
    method: string,
    path: string,
    headers: http.OutgoingHttpHeaders,
    body: Buffer | undefined,
    timeoutMs: number,
  ): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: e.host,
          port: e.httpPort,
          method,
          path,
          headers,
          agent: this.agent,
          timeout: timeoutMs || undefined,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(Object.assign(new Error('upstream timed out'), { code: 'ETIMEDOUT' })),
      );
      req.on('error', (err) =>
        reject(isConnectFailure(err, req.reusedSocket) ? new RetryableError(err) : err),
      );
      if (body) req.setHeader('content-length', body.length);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

class RetryableError extends Error {
  constructor(cause: unknown) {
    super('connect failure', { cause });
  }
}
