import http2 from 'node:http2';
import { HEADER_REPLICA_UNAVAILABLE } from '../../spec/headers.ts';
import type { Endpoint } from '../protocol/control.ts';
import { ConnectFailure, isConnectFailure, type LeastOutstanding, ReplicaUnavailable } from './balancer.ts';

export interface GrpcUpstreamResponse {
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  trailers: http2.IncomingHttpHeaders;
}

export type GrpcUpstreamCallback = (err: unknown, res?: GrpcUpstreamResponse) => void;

export const grpcEndpointKey = (e: Endpoint): string => `${e.host}:${e.grpcPort}`;

const NO_HEADERS: http2.IncomingHttpHeaders = Object.freeze({});

/** One multiplexed session per replica; requests wait in `waiting` until it has connected. */
interface Session {
  session: http2.ClientHttp2Session;
  waiting: ((err: unknown, session?: http2.ClientHttp2Session) => void)[] | undefined;
}

/**
 * Forwards unary gRPC calls at the HTTP/2 level: the framed protobuf bytes go through untouched,
 * one multiplexed session per replica, least-outstanding balancing, retry only when the call did not
 * reach an inference server (no connection, or the agent's UNAVAILABLE marked as its replica's).
 * `forward` reports through a callback, sparing the gateway a promise per call and per attempt.
 */
export class GrpcUpstream {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly balancer: LeastOutstanding<Endpoint>,
    private readonly maxAttempts = 3,
  ) {}

  /** Sends one call; `headers` are left untouched. */
  call(
    endpoints: readonly Endpoint[],
    path: string,
    headers: http2.OutgoingHttpHeaders,
    body: Buffer,
  ): Promise<GrpcUpstreamResponse> {
    return new Promise((resolve, reject) =>
      this.forward(endpoints, path, { ...headers }, body, (err, res) =>
        err === undefined ? resolve(res as GrpcUpstreamResponse) : reject(err),
      ),
    );
  }

  /**
   * Sends one call and reports to `done` exactly once. `headers` becomes the request's header
   * object (the pseudo-headers and `te` are added to it), so pass a copy the caller owns.
   */
  forward(
    endpoints: readonly Endpoint[],
    path: string,
    headers: http2.OutgoingHttpHeaders,
    body: Buffer,
    done: GrpcUpstreamCallback,
  ): void {
    headers['content-type'] ??= 'application/grpc';
    // gRPC servers (C-core, Go) reset streams that lack `te: trailers`.
    headers.te = 'trailers';
    headers[':method'] = 'POST';
    headers[':path'] = path;
    this.attempt(endpoints, headers, body, done, undefined);
  }

  /** One attempt on the least busy replica not tried yet; `tried` is allocated on the first retry. */
  private attempt(
    endpoints: readonly Endpoint[],
    headers: http2.OutgoingHttpHeaders,
    body: Buffer,
    done: GrpcUpstreamCallback,
    tried: string[] | undefined,
  ): void {
    const exclude = tried && tried.length < endpoints.length ? tried : undefined;
    const endpoint = this.balancer.pick(endpoints, exclude) ?? endpoints[0];
    if (!endpoint) {
      done(new ConnectFailure(tried ?? []));
      return;
    }
    const key = this.balancer.keyOf(endpoint);
    this.balancer.acquireKey(key);
    let settled = false;
    const finish = (err: unknown, res?: GrpcUpstreamResponse) => {
      if (settled) return;
      settled = true;
      this.balancer.releaseKey(key);
      if (err === undefined || !isConnectFailure(err)) {
        done(err, res);
        return;
      }
      // The agent itself answered: its session stays.
      if (!(err instanceof ReplicaUnavailable)) this.forget(key);
      const attempts = tried ?? [];
      attempts.push(key);
      if (attempts.length >= this.maxAttempts) done(new ConnectFailure(attempts));
      else this.attempt(endpoints, headers, body, done, attempts);
    };
    this.withSession(key, (err, session) => {
      if (err !== undefined) finish(err);
      else request(session as http2.ClientHttp2Session, key, headers, body, finish);
    });
  }

  private withSession(key: string, use: (err: unknown, session?: http2.ClientHttp2Session) => void): void {
    let entry = this.sessions.get(key);
    if (entry && (entry.session.destroyed || entry.session.closed)) {
      this.sessions.delete(key);
      entry = undefined;
    }
    if (!entry) entry = this.connect(key);
    if (entry.waiting) entry.waiting.push(use);
    else use(undefined, entry.session);
  }

  private connect(key: string): Session {
    const session = http2.connect(`http://${key}`);
    const entry: Session = { session, waiting: [] };
    const forget = () => {
      if (this.sessions.get(key) === entry) this.sessions.delete(key);
    };
    const flush = (err: unknown) => {
      const waiting = entry.waiting ?? [];
      entry.waiting = undefined;
      for (const use of waiting) use(err, err === undefined ? session : undefined);
    };
    session.once('connect', () => flush(undefined));
    session.on('error', (err) => {
      forget();
      flush(err);
    });
    session.on('close', () => {
      forget();
      flush(Object.assign(new Error('HTTP/2 session closed'), { code: 'ERR_HTTP2_INVALID_SESSION' }));
    });
    session.on('goaway', forget);
    session.unref();
    this.sessions.set(key, entry);
    return entry;
  }

  private forget(key: string): void {
    this.sessions.delete(key);
  }

  close(): void {
    for (const { session } of this.sessions.values()) session.close();
    this.sessions.clear();
  }
}

/** One request on one session; `finish` is called once (the caller guards against repeats). */
function request(
  session: http2.ClientHttp2Session,
  key: string,
  headers: http2.OutgoingHttpHeaders,
  body: Buffer,
  finish: (err: unknown, res?: GrpcUpstreamResponse) => void,
): void {
  let req: http2.ClientHttp2Stream;
  try {
    req = session.request(headers);
  } catch (err) {
    finish(err);
    return;
  }
  let responseHeaders = NO_HEADERS;
  let trailers = NO_HEADERS;
  let first: Buffer | undefined;
  let chunks: Buffer[] | undefined;
  req.on('response', (h) => {
    responseHeaders = h;
    if (h[HEADER_REPLICA_UNAVAILABLE] && h['grpc-status'] === '14') {
      req.close();
      finish(new ReplicaUnavailable(key));
    }
  });
  req.on('trailers', (t) => {
    trailers = t;
  });
  req.on('data', (c: Buffer) => {
    if (first === undefined) first = c;
    else if (chunks === undefined) chunks = [first, c];
    else chunks.push(c);
  });
  req.on('end', () =>
    finish(undefined, {
      headers: responseHeaders,
      body: chunks ? Buffer.concat(chunks) : (first ?? Buffer.alloc(0)),
      trailers,
    }),
  );
  req.on('error', finish);
  req.end(body);
}
