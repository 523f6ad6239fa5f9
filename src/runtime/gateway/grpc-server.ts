import { randomUUID } from 'node:crypto';
import http2 from 'node:http2';
import type { Logger } from 'pino';
import { GrpcCode, OipError } from '../oip/errors.ts';
import {
  firstMessage,
  frameMessage,
  overrideNameField,
  readNameField,
  sendGrpcStatus,
} from '../oip/grpc-wire.ts';
import { encodeMessage, types } from '../oip/messages.ts';
import type { Endpoint } from '../protocol/control.ts';
import type { GrpcUpstream } from '../upstream/grpc-upstream.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { Mirror } from './mirror.ts';
import { asOipError, endpointsFor, setTargetHeaders } from './rest-server.ts';
import type { Router, Target } from './router.ts';

export const SERVICE_PREFIX = '/inference.GRPCInferenceService/';
const ROUTED = new Set(['ModelInfer', 'ModelReady', 'ModelMetadata']);
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'te']);

export interface GrpcGatewayOptions {
  router: Router;
  upstream: GrpcUpstream;
  pipelineGateways: () => readonly Endpoint[];
  mirror: Mirror;
  metrics: GatewayMetrics;
  logger: Logger;
  ready: () => boolean;
  maxBodyBytes: number;
  version: string;
}

/**
 * `inference.GRPCInferenceService` over plaintext HTTP/2. Server health and metadata are answered
 * here; model calls are routed on `seldon-model` (or the name in field 1 of the request) and
 * forwarded as opaque frames.
 */
export function createGrpcGateway(opts: GrpcGatewayOptions): http2.Http2Server {
  const server = http2.createServer({ maxSessionMemory: 64 });
  server.on('stream', (stream, headers) => {
    handle(opts, stream, headers).catch((err) => {
      opts.logger.error({ err }, 'unexpected error handling a gRPC call');
      sendGrpcStatus(stream, GrpcCode.INTERNAL, 'internal gateway error');
    });
  });
  server.on('sessionError', (err) => opts.logger.debug({ err }, 'HTTP/2 session error'));
  return server;
}

async function handle(
  opts: GrpcGatewayOptions,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
) {
  const started = process.hrtime.bigint();
  const path = String(headers[':path'] ?? '');
  const method = path.startsWith(SERVICE_PREFIX) ? path.slice(SERVICE_PREFIX.length) : '';
  let kind = 'local';
  let code: number = GrpcCode.OK;
  stream.on('error', () => {});
  try {
    const body = await readBody(stream, opts.maxBodyBytes);
    const local = localAnswer(opts, method);
    if (local) {
      respond(stream, { 'content-type': 'application/grpc' }, frameMessage(local), { 'grpc-status': '0' });
      return;
    }
    if (!ROUTED.has(method)) {
      throw new OipError(
        method ? `${method} is not served by the gateway` : `unknown gRPC method ${path}`,
        501,
        GrpcCode.UNIMPLEMENTED,
      );
    }
    const message = firstMessage(body);
    if (!message) throw new OipError(`${method}: malformed or compressed gRPC message`, 400);
    const requestId = headerValue(headers['x-request-id']) || randomUUID();
    const routeKey = headerValue(headers['seldon-model']) || readNameField(message);
    if (!routeKey)
      throw new OipError(`${method}: no model name in the request and no seldon-model header`, 400);
    const resolution = opts.router.resolve(routeKey, headerValue(headers['x-seldon-route']));
    kind = resolution.target.kind;
    const out = forwardHeaders(headers);
    out['x-request-id'] = requestId;
    setTargetHeaders(out, resolution.target);
    const payload = retarget(body, message, resolution.target);
    const mirror = resolution.mirror;
    if (mirror) {
      const mirrorHeaders = { ...out };
      setTargetHeaders(mirrorHeaders, mirror);
      opts.mirror.run(() =>
        opts.upstream.call(
          endpointsFor(opts, { target: mirror, route: '' }),
          path,
          mirrorHeaders,
          retarget(body, message, mirror),
        ),
      );
    }
    const res = await opts.upstream.call(endpointsFor(opts, resolution), path, out, payload);
    const resHeaders = forwardHeaders(res.headers);
    resHeaders['x-request-id'] = requestId;
    resHeaders['x-seldon-route'] = resolution.route;
    code = Number(res.trailers['grpc-status'] ?? res.headers['grpc-status'] ?? GrpcCode.OK);
    respond(stream, resHeaders, res.body, forwardHeaders(res.trailers));
  } catch (err) {
    const e = asOipError(err);
    code = e.grpcCode;
    sendGrpcStatus(stream, e.grpcCode, e.message);
  } finally {
    opts.metrics.requests.inc({ protocol: 'grpc', kind, code });
    opts.metrics.latency.observe({ protocol: 'grpc', kind }, Number(process.hrtime.bigint() - started) / 1e9);
  }
}

function localAnswer(opts: GrpcGatewayOptions, method: string): Buffer | undefined {
  if (method === 'ServerLive') return encodeMessage(types.ServerLiveResponse, { live: true });
  if (method === 'ServerReady') return encodeMessage(types.ServerReadyResponse, { ready: opts.ready() });
  if (method === 'ServerMetadata') {
    return encodeMessage(types.ServerMetadataResponse, {
      name: 'mlops-gateway',
      version: opts.version,
      extensions: [],
    });
  }
  return undefined;
}

/** Experiments may send a call to another model than the one it names: override field 1. */
function retarget(body: Buffer, message: Buffer, target: Target): Buffer {
  if (target.kind !== 'model' || readNameField(message) === target.name) return body;
  return frameMessage(overrideNameField(message, target.name));
}

/** Copies end-to-end headers; `for...in` rather than `Object.entries` spares an array per header on the hot path. */
function forwardHeaders(headers: http2.IncomingHttpHeaders): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const k in headers) {
    const v = headers[k];
    if (v !== undefined && k.charCodeAt(0) !== 58 /* ':' */ && !HOP_BY_HOP.has(k)) out[k] = v;
  }
  return out;
}

function respond(
  stream: http2.ServerHttp2Stream,
  headers: http2.OutgoingHttpHeaders,
  body: Buffer,
  trailers: http2.OutgoingHttpHeaders,
): void {
  if (stream.destroyed || stream.closed) return;
  let hasTrailers = false;
  for (const _ in trailers) {
    hasTrailers = true;
    break;
  }
  // `headers` is this call's own copy, so it can carry the status itself.
  headers[':status'] = 200;
  if (!hasTrailers && body.length === 0) {
    // Trailers-only response (the upstream put grpc-status in its headers).
    stream.respond(headers, { endStream: true });
    return;
  }
  stream.respond(headers, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers(hasTrailers ? trailers : { 'grpc-status': '0' }));
  stream.end(body);
}

function readBody(stream: http2.ServerHttp2Stream, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new OipError(`message exceeds ${limit} bytes`, 413));
        return;
      }
      chunks.push(c);
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[v.length - 1] : v;
}
