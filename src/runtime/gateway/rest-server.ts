import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { HEADER_MODEL, HEADER_REQUEST_ID, HEADER_ROUTE } from '../../spec/headers.ts';
import { errorBody, OipError } from '../oip/errors.ts';
import { checkHeaderValues, checkRequestId, decodePathSegment } from '../oip/request-text.ts';
import { endSpanWithCode, injectSpan, type Span, SpanKind, startSpan } from '../telemetry/tracing.ts';
import { forwardableHeaders, type HttpUpstream } from '../upstream/http-upstream.ts';
import { type BodyBudget, BusyError } from './body-budget.ts';
import {
  asOipError,
  checkVersion,
  endpointsFor,
  headerValue,
  rewritePath,
  setTargetHeaders,
} from './forwarding.ts';
import { RequestRecorder } from './metrics.ts';
import type { ProtocolServerOptions } from './protocol-options.ts';
import { answerFromUpstream, requestToForward } from './rest-convert.ts';
import { routeKeyFromPath } from './router.ts';

export type RestGatewayOptions = ProtocolServerOptions<HttpUpstream>;

const JSON_HEADERS = { 'content-type': 'application/json' };
const HEALTH_LIVE = { contentType: 'application/json', body: JSON.stringify({ live: true }) };
const MODEL_PATH = /^\/v2\/models\/([^/]+)(\/versions\/[^/]+)?(\/infer|\/ready)?$/;
const PIPELINE_PATH = /^\/v2\/pipelines\/([^/]+)(\/infer|\/ready)?$/;

/** The OIP REST ingress: health and metadata answered locally, everything else routed. */
export function createRestGateway(opts: RestGatewayOptions): http.Server {
  const recorder = new RequestRecorder(opts.metrics, 'rest');
  const server = http.createServer((req, res) => {
    handle(opts, recorder, req, res).catch((err) => {
      opts.logger.error({ err }, 'unexpected error handling a request');
      if (!res.headersSent) sendError(res, new OipError('internal gateway error', 500));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  // A request Node's parser refuses (a malformed request line or header, headers too large)
  // still gets an OIP error body.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const body = errorBody(
      status === 431
        ? 'request headers are too large; send fewer or shorter headers'
        : `malformed HTTP request (${err.code ?? err.message}); check the request line and headers`,
    );
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  return server;
}

async function handle(
  opts: RestGatewayOptions,
  recorder: RequestRecorder,
  req: http.IncomingMessage,
  res: http.ServerResponse,
) {
  const started = performance.now();
  const sentId = headerValue(req.headers[HEADER_REQUEST_ID]);
  const requestId = sentId || randomUUID();
  // A bad id is refused below; the answer then carries a fresh one.
  res.setHeader(HEADER_REQUEST_ID, sentId && !isPlainId(sentId) ? randomUUID() : requestId);
  const url = req.url ?? '/';
  const path = url.split('?', 1)[0];
  let kind = 'local';
  let span: Span | undefined;
  const held = { bytes: 0 };
  try {
    if (sentId) checkRequestId(sentId, HEADER_REQUEST_ID);
    if (path === '/metrics' && req.method === 'GET') {
      const text = await opts.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': opts.metrics.registry.contentType }).end(text);
      return;
    }
    const local = localAnswer(opts, req.method ?? 'GET', path);
    if (local) {
      if (local.contentType) res.setHeader('content-type', local.contentType);
      res.writeHead(local.status).end(local.body);
      return;
    }
    const modelPath = MODEL_PATH.exec(path);
    const pipelinePath = modelPath ? null : PIPELINE_PATH.exec(path);
    if (!modelPath && !pipelinePath) throw new OipError(`no OIP endpoint at ${req.method} ${path}`, 404);
    const action = (modelPath?.[3] ?? pipelinePath?.[2] ?? '').slice(1) || 'metadata';
    const expectedMethod = action === 'infer' ? 'POST' : 'GET';
    if (req.method !== expectedMethod) {
      throw new OipError(`${path} accepts ${expectedMethod}, not ${req.method}`, 405);
    }
    checkHeaderValues(req.headers);
    const routeKey = headerValue(req.headers[HEADER_MODEL]) || (routeKeyFromPath(path) as string);
    const limit = opts.maxBodyBytes;
    const raw = action === 'infer' ? await readBody(req, limit, opts.budget, held) : undefined;
    const headers = forwardableHeaders(req.headers);
    headers[HEADER_REQUEST_ID] = requestId;
    const outgoing = requestToForward(req, raw, headers, routeKey, limit);
    // A compressed body is held decompressed from here on.
    const grown = (outgoing.bodyBytes ?? 0) - (raw?.length ?? 0);
    if (grown > 0) hold(opts.budget, held, grown);
    outgoing.decode();
    const resolution = opts.router.resolve(routeKey, headerValue(req.headers[HEADER_ROUTE]));
    kind = resolution.target.kind;
    const target = resolution.target;
    const version = modelPath?.[2] ? decodePathSegment(modelPath[2].slice('/versions/'.length)) : undefined;
    checkVersion(version, target);
    if (action === 'ready' && target.kind === 'pipeline' && !opts.router.pipelineReady(target.name))
      throw new OipError(`pipeline "${target.name}" is not ready: not all of its models are available`, 503);
    // The path already names the chosen target unless an experiment picked another one, the
    // replica serves it under an internal name, or it names a version.
    const samePath =
      version === undefined &&
      (pipelinePath !== null) === (target.kind === 'pipeline') &&
      (modelPath ?? pipelinePath)?.[1] ===
        encodeURIComponent(target.kind === 'model' ? target.internalName : target.name);
    const upstreamPath = samePath ? url : rewritePath(url, target);
    const { body, binaryOutputs } = outgoing.forTarget(resolution.target);
    setTargetHeaders(headers, resolution.target);
    span = startSpan('gateway.rest', SpanKind.SERVER, req.headers);
    span?.setAttributes({ 'mlops.route_key': routeKey, 'mlops.target': target.name, 'url.path': path });
    injectSpan(span, headers);
    if (resolution.mirror) opts.mirror.send(resolution.mirror, req.method ?? 'POST', url, headers, body);
    const upstream = await opts.upstream.send(
      endpointsFor(opts, resolution),
      req.method ?? 'GET',
      upstreamPath,
      headers,
      body,
    );
    const outHeaders = forwardableHeaders(upstream.headers);
    outHeaders[HEADER_REQUEST_ID] = requestId;
    outHeaders[HEADER_ROUTE] = combineRoutes(resolution.route, upstream.headers[HEADER_ROUTE]);
    const answer = answerFromUpstream(upstream, outHeaders, {
      action,
      target: resolution.target,
      binaryOutputs,
      acceptEncoding: headerValue(req.headers['accept-encoding']),
    });
    res.writeHead(answer.status, answer.headers).end(answer.body);
  } catch (err) {
    sendError(res, asOipError(err));
  } finally {
    opts.budget.release(held.bytes);
    recorder.record(kind, res.statusCode, started);
    endSpanWithCode(span, res.statusCode, res.statusCode >= 500);
  }
}

function isPlainId(id: string): boolean {
  try {
    checkRequestId(id, HEADER_REQUEST_ID);
    return true;
  } catch {
    return false;
  }
}

function hold(budget: BodyBudget, held: { bytes: number }, bytes: number): void {
  if (!budget.take(bytes)) throw new BusyError(budget.limit);
  held.bytes += bytes;
}

function localAnswer(
  opts: RestGatewayOptions,
  method: string,
  path: string,
): { status: number; body?: string; contentType?: string } | undefined {
  if (method !== 'GET') return undefined;
  if (path === '/v2/health/live') return { status: 200, ...HEALTH_LIVE };
  if (path === '/v2/health/ready' || path === '/ready') {
    const ready = opts.ready();
    return { status: ready ? 200 : 503, contentType: 'application/json', body: JSON.stringify({ ready }) };
  }
  if (path === '/v2' || path === '/v2/') {
    return {
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify({ name: 'mlops-gateway', version: opts.version, extensions: [] }),
    };
  }
  return undefined;
}

function combineRoutes(own: string, upstream: string | string[] | undefined): string {
  if (!upstream) return own;
  const rest = Array.isArray(upstream) ? upstream.join('') : upstream;
  return rest.includes(own) ? rest : own + rest;
}

/**
 * Reads a request body into memory, taking its bytes from the budget: all of them up front when
 * the client declares a length, else chunk by chunk as they arrive. Over the per-request limit
 * is 413, over the budget 503; the rest of a refused body is read and dropped so the answer can
 * still be sent on this connection.
 */
function readBody(
  req: http.IncomingMessage,
  limit: number,
  budget: BodyBudget,
  held: { bytes: number },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const refuse = (err: OipError) => {
      req.removeAllListeners('data');
      req.resume();
      reject(err);
    };
    const tooLarge = () => new OipError(`request body exceeds ${limit} bytes; send smaller batches`, 413);
    const declared = req.headers['content-length'] === undefined ? -1 : Number(req.headers['content-length']);
    if (declared > limit) return refuse(tooLarge());
    if (declared > 0) {
      if (!budget.take(declared)) return refuse(new BusyError(budget.limit));
      held.bytes += declared;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) return refuse(tooLarge());
      if (size > held.bytes) {
        if (!budget.take(size - held.bytes)) return refuse(new BusyError(budget.limit));
        held.bytes = size;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

function sendError(res: http.ServerResponse, err: OipError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: http.OutgoingHttpHeaders = { ...JSON_HEADERS };
  if (err instanceof BusyError) headers['retry-after'] = String(err.retryAfterSeconds);
  res.writeHead(err.status, headers).end(errorBody(err.message));
}
