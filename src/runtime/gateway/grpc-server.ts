import { randomUUID } from 'node:crypto';
import http2 from 'node:http2';
import type { Logger } from 'pino';
import { HEADER_MODEL, HEADER_REQUEST_ID, HEADER_ROUTE } from '../../spec/headers.ts';
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
import type { GrpcUpstream, GrpcUpstreamResponse } from '../upstream/grpc-upstream.ts';
import { asOipError, endpointsFor, headerValue, setTargetHeaders } from './forwarding.ts';
import { type GatewayMetrics, RequestRecorder } from './metrics.ts';
import type { Mirror } from './mirror.ts';
import type { Router, Target } from './router.ts';

export const SERVICE_PREFIX = '/inference.GRPCInferenceService/';
const ROUTED = new Set(['ModelInfer', 'ModelReady', 'ModelMetadata']);
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'te']);
const EMPTY = Buffer.alloc(0);
const OK_TRAILERS: http2.OutgoingHttpHeaders = Object.freeze({ 'grpc-status': '0' });

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
  const recorder = new RequestRecorder(opts.metrics, 'grpc');
  server.on('stream', (stream, headers) => new GrpcCall(opts, recorder, stream, headers).start());
  server.on('sessionError', (err) => opts.logger.debug({ err }, 'HTTP/2 session error'));
  return server;
}

/**
 * One call, driven by stream and upstream callbacks: no promise or await chain per call on the
 * path every request takes.
 */
class GrpcCall {
  private readonly started = performance.now();
  private kind = 'local';
  /** Until the request's end: an error or an oversized body before then ends the call. */
  private reading = true;
  private first: Buffer | undefined;
  private chunks: Buffer[] | undefined;
  private size = 0;
  private requestId = '';
  private route = '';

  constructor(
    private readonly opts: GrpcGatewayOptions,
    private readonly recorder: RequestRecorder,
    private readonly stream: http2.ServerHttp2Stream,
    private readonly headers: http2.IncomingHttpHeaders,
  ) {}

  start(): void {
    this.stream.on('error', (err) => {
      if (!this.reading) return;
      this.reading = false;
      this.fail(err);
    });
    this.stream.on('data', (c: Buffer) => {
      if (!this.reading) return;
      this.size += c.length;
      if (this.size > this.opts.maxBodyBytes) {
        this.reading = false;
        this.fail(new OipError(`message exceeds ${this.opts.maxBodyBytes} bytes`, 413));
      } else if (this.first === undefined) this.first = c;
      else if (this.chunks === undefined) this.chunks = [this.first, c];
      else this.chunks.push(c);
    });
    this.stream.on('end', () => {
      if (!this.reading) return;
      this.reading = false;
      const body = this.chunks ? Buffer.concat(this.chunks, this.size) : (this.first ?? EMPTY);
      try {
        this.dispatch(body);
      } catch (err) {
        this.fail(err);
      }
    });
  }

  private dispatch(body: Buffer): void {
    const { opts, headers } = this;
    const path = headers[':path'] ?? '';
    const method = path.startsWith(SERVICE_PREFIX) ? path.slice(SERVICE_PREFIX.length) : '';
    const local = localAnswer(opts, method);
    if (local) {
      respond(this.stream, { 'content-type': 'application/grpc' }, frameMessage(local), {
        'grpc-status': '0',
      });
      this.recorder.record(this.kind, GrpcCode.OK, this.started);
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
    this.requestId = headerValue(headers[HEADER_REQUEST_ID]) || randomUUID();
    const named = readNameField(message);
    const routeKey = headerValue(headers[HEADER_MODEL]) || named;
    if (!routeKey)
      throw new OipError(`${method}: no model name in the request and no seldon-model header`, 400);
    const resolution = opts.router.resolve(routeKey, headerValue(headers[HEADER_ROUTE]));
    this.kind = resolution.target.kind;
    this.route = resolution.route;
    const target = resolution.target;
    // A pipeline is ready only when its models are; then the dataflow engine answers for itself.
    if (method === 'ModelReady' && target.kind === 'pipeline' && !opts.router.pipelineReady(target.name)) {
      respond(
        this.stream,
        { 'content-type': 'application/grpc' },
        frameMessage(encodeMessage(types.ModelReadyResponse, { ready: false })),
        { 'grpc-status': '0' },
      );
      this.recorder.record(this.kind, GrpcCode.OK, this.started);
      return;
    }
    const out = forwardHeaders(headers);
    out[HEADER_REQUEST_ID] = this.requestId;
    setTargetHeaders(out, resolution.target);
    const mirror = resolution.mirror;
    if (mirror) {
      const mirrorHeaders = { ...out };
      setTargetHeaders(mirrorHeaders, mirror);
      opts.mirror.run(() =>
        opts.upstream.call(
          endpointsFor(opts, { target: mirror, route: '' }),
          path,
          mirrorHeaders,
          retarget(body, message, named, mirror),
        ),
      );
    }
    opts.upstream.forward(
      endpointsFor(opts, resolution),
      path,
      out,
      retarget(body, message, named, resolution.target),
      (err, res) => this.answer(err, res),
    );
  }

  private answer(err: unknown, res: GrpcUpstreamResponse | undefined): void {
    if (err !== undefined || res === undefined) {
      this.fail(err);
      return;
    }
    try {
      const resHeaders = forwardHeaders(res.headers);
      resHeaders[HEADER_REQUEST_ID] = this.requestId;
      resHeaders[HEADER_ROUTE] = this.route;
      const code = Number(res.trailers['grpc-status'] ?? res.headers['grpc-status'] ?? GrpcCode.OK);
      respond(this.stream, resHeaders, res.body, forwardHeaders(res.trailers));
      this.recorder.record(this.kind, code, this.started);
    } catch (e) {
      this.fail(e);
    }
  }

  /** Ends the call with the error's gRPC status (trailers-only, or a reset once headers went out). */
  private fail(err: unknown): void {
    const e = asOipError(err);
    try {
      sendGrpcStatus(this.stream, e.grpcCode, e.message);
    } catch (sendErr) {
      this.opts.logger.error({ err: sendErr }, 'could not send a gRPC status');
    }
    this.recorder.record(this.kind, e.grpcCode, this.started);
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
function retarget(body: Buffer, message: Buffer, named: string | undefined, target: Target): Buffer {
  if (target.kind !== 'model' || named === target.name) return body;
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
  stream.on('wantTrailers', () => stream.sendTrailers(hasTrailers ? trailers : OK_TRAILERS));
  stream.end(body);
}
