import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Logger } from 'pino';
import { HEADER_INTERNAL_MODEL, HEADER_REPLICA_UNAVAILABLE, HEADER_REQUEST_ID } from '../../spec/headers.ts';
import {
  endSpan,
  endSpanWithCode,
  injectSpan,
  type Span,
  SpanKind,
  startChildSpan,
  startSpan,
} from '../telemetry/tracing.ts';
import type { AgentMetrics } from './metrics.ts';
import type { ModelManager } from './model-manager.ts';
import { isRepositoryPath, REPOSITORY_REFUSED } from './repository-guard.ts';

const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/[^/]+)?(\/.*)?$/;

/**
 * REST reverse proxy in front of the inference server: resolves the model version, makes sure it
 * is in memory (reloading it after an eviction), rewrites the path to the internal name and
 * forwards. If the server answers 404 for a model it should have (it lost it), the model is
 * loaded again and the request retried once.
 */
export function createRestProxy(opts: {
  manager: ModelManager;
  upstream: string;
  metrics: AgentMetrics;
  log: Logger;
  /** Whether the inference server is up; while it is not, requests go to other replicas. */
  serverUp?: () => boolean;
  /** Told when a request could not reach the inference server. */
  onServerFailure?: () => void;
}): http.Server {
  const upstream = new URL(opts.upstream);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  // A failure anywhere in one request (client gone, bad URL encoding) answers that request only.
  return http.createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      opts.log.warn({ err: err.message, url: req.url }, 'proxy request failed');
      fail(res, 400, `bad request: ${err.message}`);
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const requestId = (req.headers[HEADER_REQUEST_ID] as string | undefined) ?? randomUUID();
    res.setHeader(HEADER_REQUEST_ID, requestId);
    if (isRepositoryPath(req.url ?? '/')) {
      req.resume();
      return fail(res, 403, REPOSITORY_REFUSED);
    }
    const m = MODEL_PATH.exec(req.url?.split('?')[0] ?? '');
    if (!m) {
      // Server-level endpoints (health, metadata) pass straight through.
      const body = await readBody(req);
      return forward(req, req.url ?? '/', body, undefined).then(
        (r) => send(res, r),
        (err) => fail(res, 502, `inference server unreachable: ${(err as Error).message}`),
      );
    }
    const internal = resolve(
      opts.manager,
      req.headers[HEADER_INTERNAL_MODEL] as string | undefined,
      decodeURIComponent(m[1]),
    );
    if (!internal) return fail(res, 404, `model ${decodeURIComponent(m[1])} is not loaded on this replica`);
    if (opts.serverUp && !opts.serverUp()) {
      req.resume();
      return fail(res, 503, SERVER_DOWN, {
        [HEADER_REPLICA_UNAVAILABLE]: '1',
      });
    }
    const query = req.url?.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    const path = `/v2/models/${encodeURIComponent(internal)}${m[2] ?? ''}${query}`;
    const body = await readBody(req);
    const started = performance.now();
    const record = (code: number) =>
      opts.metrics.inferred({
        model: opts.manager.definition(internal)?.name ?? internal,
        internal,
        protocol: 'rest',
        method: (req.method ?? 'post').toLowerCase(),
        code: String(code),
        seconds: (performance.now() - started) / 1000,
      });
    // From here on: bringing the model into memory is part of the hop.
    const span = startSpan('agent.proxy.rest', SpanKind.SERVER, req.headers);
    if (span) {
      span.setAttribute('mlops.model', internal);
      res.once('close', () => endSpanWithCode(span, res.statusCode, res.statusCode >= 500));
    }
    try {
      if (!(await opts.manager.acquire(internal)))
        return fail(res, 404, `model ${internal} is not registered`);
    } catch (err) {
      return fail(res, 503, `model ${internal} could not be brought into memory: ${(err as Error).message}`);
    }
    try {
      let r = await forward(req, path, body, span);
      if (r.status === 404) {
        // The server lost a model we hold (it restarted): load it again and retry once. (A 400 is
        // usually a bad request, so unlike Seldon it does not trigger a reload.)
        await opts.manager.reloadLost(internal);
        r = await forward(req, path, body, span);
      }
      record(r.status);
      send(res, r);
    } catch (err) {
      if (!UNREACHABLE.has((err as NodeJS.ErrnoException).code ?? '')) {
        record(502);
        return fail(res, 502, `inference server error for ${internal}: ${(err as Error).message}`);
      }
      // Nothing came back: another replica can answer instead. A refused connection means the
      // server is gone (a reset may only be a busy one dropping a kept-alive socket).
      if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') opts.onServerFailure?.();
      record(503);
      fail(res, 503, `inference server unreachable: ${(err as Error).message}`, {
        [HEADER_REPLICA_UNAVAILABLE]: '1',
      });
    } finally {
      opts.manager.release(internal);
    }
  }

  function forward(
    req: http.IncomingMessage,
    path: string,
    body: Buffer,
    parent: Span | undefined,
    retried = false,
  ): Promise<Upstream> {
    return new Promise((resolvePromise, reject) => {
      const headers: http.OutgoingHttpHeaders = {
        ...req.headers,
        host: upstream.host,
        'content-length': String(body.length),
      };
      delete headers[HEADER_INTERNAL_MODEL];
      delete headers['transfer-encoding'];
      const call = startChildSpan('inference-server.rest', SpanKind.CLIENT, parent);
      injectSpan(call, headers);
      const up = http.request(
        {
          protocol: upstream.protocol,
          hostname: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path,
          headers,
          agent,
        },
        (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => {
            endSpanWithCode(call, r.statusCode ?? 502, (r.statusCode ?? 502) >= 500);
            resolvePromise({ status: r.statusCode ?? 502, headers: r.headers, body: Buffer.concat(chunks) });
          });
          r.on('error', reject);
        },
      );
      up.on('error', (err: NodeJS.ErrnoException) => {
        endSpan(call, err);
        // The server closed an idle keep-alive connection just as we reused it (uvicorn drops
        // them after 5 s without saying so): nothing reached it, so send again on a new one.
        if (up.reusedSocket && err.code === 'ECONNRESET' && !retried)
          forward(req, path, body, parent, true).then(resolvePromise, reject);
        else reject(err);
      });
      up.end(body);
    });
  }
}

interface Upstream {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** The internal name to serve: the gateway's header, else the path's name if it is an internal
 * name, else the newest registered version of the model the path names. */
export function resolve(
  manager: ModelManager,
  header: string | undefined,
  pathName: string,
): string | undefined {
  if (header && manager.definition(header)) return header;
  if (manager.definition(pathName)) return pathName;
  const latest = manager.latestOf(pathName);
  return latest ? `${latest.name}_${latest.version}` : undefined;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolvePromise(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, r: Upstream): void {
  const headers = { ...r.headers };
  delete headers['transfer-encoding'];
  delete headers.connection;
  headers['content-length'] = String(r.body.length);
  for (const [k, v] of Object.entries(headers))
    if (v !== undefined && k !== HEADER_REQUEST_ID) res.setHeader(k, v);
  res.writeHead(r.status);
  res.end(r.body);
}

/** Errors of a request that got no answer from the inference server (gone, or restarting). */
/** The answer of either proxy while the replica's inference server is down. */
export const SERVER_DOWN = 'the inference server of this replica is down';
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE']);

function fail(
  res: http.ServerResponse,
  status: number,
  error: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error });
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
