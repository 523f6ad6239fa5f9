import http2 from 'node:http2';
import { HEADER_REQUEST_ID, HEADER_ROUTE } from '../../spec/headers.ts';
import { GrpcCode, OipError } from '../oip/errors.ts';
import { firstFrame, frameMessage, sendGrpcStatus } from '../oip/grpc-wire.ts';
import { encodeMessage, types } from '../oip/messages.ts';
import { REFLECTION_PATHS, serveReflection } from '../oip/reflection.ts';
import { endSpanWithCode, injectSpan, type Span, SpanKind, startSpan } from '../telemetry/tracing.ts';
import type { GrpcUpstreamResponse } from '../upstream/grpc-upstream.ts';
import { BusyError } from './body-budget.ts';
import { asOipError, endpointsFor, setTargetHeaders } from './forwarding.ts';
import {
  forwardHeaders,
  type GrpcGatewayOptions,
  type Prepared,
  prepareCall,
  renameResponse,
  SERVICE_PREFIX,
  scrubStatusMessage,
} from './grpc-prepare.ts';
import { StreamInferCall } from './grpc-stream.ts';
import { RequestRecorder } from './metrics.ts';

export { type GrpcGatewayOptions, SERVICE_PREFIX };

const ROUTED = new Set(['ModelInfer', 'ModelReady', 'ModelMetadata']);
const LOCAL = new Set(['ServerLive', 'ServerReady', 'ServerMetadata']);
const EMPTY = Buffer.alloc(0);
const OK_TRAILERS: http2.OutgoingHttpHeaders = Object.freeze({ 'grpc-status': '0' });

/**
 * `inference.GRPCInferenceService` over plaintext HTTP/2. Server health and metadata and server
 * reflection are answered here; model calls are routed on `seldon-model` (or the name in field 1
 * of the request), checked and forwarded; ModelStreamInfer is a stream of such calls. Any other
 * method is refused with UNIMPLEMENTED as soon as its headers arrive.
 */
export function createGrpcGateway(opts: GrpcGatewayOptions): http2.Http2Server {
  const server = http2.createServer({ maxSessionMemory: 64 });
  const recorder = new RequestRecorder(opts.metrics, 'grpc');
  server.on('stream', (stream, headers) => {
    const path = headers[':path'] ?? '';
    const method = path.startsWith(SERVICE_PREFIX) ? path.slice(SERVICE_PREFIX.length) : '';
    if (REFLECTION_PATHS.has(path)) serveReflection(stream);
    else if (method === 'ModelStreamInfer') new StreamInferCall(opts, recorder, stream, headers).start();
    else if (ROUTED.has(method) || LOCAL.has(method))
      new GrpcCall(opts, recorder, stream, headers, method).start();
    else {
      stream.on('error', () => undefined);
      stream.resume();
      sendGrpcStatus(
        stream,
        GrpcCode.UNIMPLEMENTED,
        method ? `${method} is not served by the gateway` : `unknown gRPC method ${path}`,
      );
      recorder.record('local', GrpcCode.UNIMPLEMENTED, performance.now());
    }
  });
  server.on('sessionError', (err) => opts.logger.debug({ err }, 'HTTP/2 session error'));
  return server;
}

/**
 * One unary call, driven by stream and upstream callbacks: no promise or await chain per call on
 * the path every request takes.
 */
class GrpcCall {
  private readonly started = performance.now();
  private kind = 'local';
  /** Until the request's end: an error or an oversized body before then ends the call. */
  private reading = true;
  private first: Buffer | undefined;
  private chunks: Buffer[] | undefined;
  private size = 0;
  /** Body bytes taken from the gateway's budget, given back when the call ends. */
  private held = 0;
  private prepared: Prepared | undefined;
  private span: Span | undefined;

  constructor(
    private readonly opts: GrpcGatewayOptions,
    private readonly recorder: RequestRecorder,
    private readonly stream: http2.ServerHttp2Stream,
    private readonly headers: http2.IncomingHttpHeaders,
    private readonly method: string,
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
      } else if (!this.opts.budget.take(c.length)) {
        this.reading = false;
        this.fail(new BusyError(this.opts.budget.limit));
      } else {
        this.held += c.length;
        if (this.first === undefined) this.first = c;
        else if (this.chunks === undefined) this.chunks = [this.first, c];
        else this.chunks.push(c);
      }
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
    const { opts, method } = this;
    const local = localAnswer(opts, method);
    if (local) {
      this.local(local, {});
      return;
    }
    const prepared = prepareCall(opts, method, firstFrame(body), this.headers);
    this.prepared = prepared;
    if (prepared.local || !prepared.resolution) {
      this.local(prepared.local ?? EMPTY, { [HEADER_REQUEST_ID]: prepared.requestId });
      return;
    }
    const resolution = prepared.resolution;
    this.kind = resolution.target.kind;
    const path = SERVICE_PREFIX + method;
    this.span = startSpan('gateway.grpc', SpanKind.SERVER, this.headers);
    this.span?.setAttributes({ 'rpc.method': method, 'mlops.target': resolution.target.name });
    injectSpan(this.span, prepared.headers);
    const mirror = resolution.mirror;
    if (mirror) {
      const mirrorHeaders = { ...prepared.headers };
      setTargetHeaders(mirrorHeaders, mirror);
      opts.mirror.run(() =>
        opts.upstream.call(
          endpointsFor(opts, { target: mirror, route: '' }),
          path,
          mirrorHeaders,
          prepared.bodyFor?.(mirror) ?? prepared.body,
        ),
      );
    }
    opts.upstream.forward(endpointsFor(opts, resolution), path, prepared.headers, prepared.body, (err, res) =>
      this.answer(err, res),
    );
  }

  private local(message: Buffer, headers: http2.OutgoingHttpHeaders): void {
    respond(this.stream, { 'content-type': 'application/grpc', ...headers }, frameMessage(message), {
      'grpc-status': '0',
    });
    this.done(GrpcCode.OK);
  }

  /** Records the call, ends its span and gives its body bytes back. */
  private done(code: number): void {
    this.opts.budget.release(this.held);
    this.held = 0;
    this.first = undefined;
    this.chunks = undefined;
    this.recorder.record(this.kind, code, this.started);
    endSpanWithCode(this.span, code, code !== GrpcCode.OK);
  }

  private answer(err: unknown, res: GrpcUpstreamResponse | undefined): void {
    const prepared = this.prepared;
    if (err !== undefined || res === undefined || !prepared) {
      this.fail(err);
      return;
    }
    try {
      const resHeaders = forwardHeaders(res.headers);
      resHeaders[HEADER_REQUEST_ID] = prepared.requestId;
      resHeaders[HEADER_ROUTE] = prepared.resolution?.route ?? '';
      const code = Number(res.trailers['grpc-status'] ?? res.headers['grpc-status'] ?? GrpcCode.OK);
      const body =
        code === GrpcCode.OK ? renameResponse(this.method, res.body, prepared.resolution?.target) : res.body;
      const trailers = forwardHeaders(res.trailers);
      if (code !== GrpcCode.OK) {
        scrubStatusMessage(trailers);
        scrubStatusMessage(resHeaders);
      }
      respond(this.stream, resHeaders, body, trailers);
      this.done(code);
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
    this.done(e.grpcCode);
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
