import http2 from 'node:http2';
import type { Endpoint } from '../protocol/control.ts';
import { isConnectFailure, type LeastOutstanding, sendWithRetries } from './balancer.ts';

export interface GrpcUpstreamResponse {
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  trailers: http2.IncomingHttpHeaders;
}

export const grpcEndpointKey = (e: Endpoint): string => `${e.host}:${e.grpcPort}`;

/**
 * Forwards unary gRPC calls at the HTTP/2 level: the framed protobuf bytes go through untouched,
 * one multiplexed session per replica, least-outstanding balancing, retry on connect failure only.
 */
export class GrpcUpstream {
  private readonly sessions = new Map<string, Promise<http2.ClientHttp2Session>>();

  constructor(
    private readonly balancer: LeastOutstanding<Endpoint>,
    private readonly maxAttempts = 3,
  ) {}

  async call(
    endpoints: readonly Endpoint[],
    path: string,
    headers: http2.OutgoingHttpHeaders,
    body: Buffer,
  ): Promise<GrpcUpstreamResponse> {
    return sendWithRetries(
      this.balancer,
      endpoints,
      this.maxAttempts,
      grpcEndpointKey,
      async (_endpoint, key) => this.once(await this.session(key), path, headers, body),
      (err, key) => {
        if (!isConnectFailure(err)) return false;
        this.sessions.delete(key);
        return true;
      },
    );
  }

  private session(key: string): Promise<http2.ClientHttp2Session> {
    let pending = this.sessions.get(key);
    if (!pending) {
      pending = new Promise((resolve, reject) => {
        const session = http2.connect(`http://${key}`);
        const forget = () => {
          if (this.sessions.get(key) === pending) this.sessions.delete(key);
        };
        session.once('connect', () => resolve(session));
        session.on('error', (err) => {
          forget();
          reject(err);
        });
        session.on('close', forget);
        session.on('goaway', forget);
        session.unref();
      });
      // A failed connection must not leave an unhandled rejection behind when nobody awaits it.
      pending.catch(() => {});
      this.sessions.set(key, pending);
    }
    return pending;
  }

  private once(
    session: http2.ClientHttp2Session,
    path: string,
    headers: http2.OutgoingHttpHeaders,
    body: Buffer,
  ): Promise<GrpcUpstreamResponse> {
    return new Promise((resolve, reject) => {
      let req: http2.ClientHttp2Stream;
      try {
        // gRPC servers (C-core, Go) reset streams that lack `te: trailers`.
        req = session.request({
          'content-type': 'application/grpc',
          ...headers,
          te: 'trailers',
          ':method': 'POST',
          ':path': path,
        });
      } catch (err) {
        reject(err);
        return;
      }
      let responseHeaders: http2.IncomingHttpHeaders = {};
      let trailers: http2.IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      req.on('response', (h) => {
        responseHeaders = h;
      });
      req.on('trailers', (t) => {
        trailers = t;
      });
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve({ headers: responseHeaders, body: Buffer.concat(chunks), trailers }));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    for (const pending of this.sessions.values()) {
      pending.then((s) => s.close()).catch(() => {});
    }
    this.sessions.clear();
  }
}
