import http2 from 'node:http2';
import type { Logger } from 'pino';
import { HEADER_INTERNAL_MODEL } from '../../spec/headers.ts';
import {
  frameMessage,
  onlyMessage,
  overrideNameField,
  readNameField,
  sendGrpcStatus,
} from '../oip/grpc-wire.ts';
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
import { resolve } from './proxy.ts';
import { isRepositoryMethod, REPOSITORY_REFUSED } from './repository-guard.ts';

const SERVICE = '/inference.GRPCInferenceService/';
/** Methods whose request's field 1 names the model (ModelInferRequest.model_name,
 * ModelReadyRequest.name, ModelMetadataRequest.name). */
const MODEL_METHODS = new Set(['ModelInfer', 'ModelReady', 'ModelMetadata']);

/**
 * gRPC reverse proxy at the HTTP/2 level: the request is not decoded beyond field 1 of its single
 * message. The model's internal name comes from the `seldon-internal-model` header or that field;
 * the model is brought into memory first, then the message is forwarded with field 1 appended as
 * the internal name (on decode the last occurrence of a field wins). Other methods pass through.
 */
export function createGrpcProxy(opts: {
  manager: ModelManager;
  upstream: string;
  metrics: AgentMetrics;
  log: Logger;
}): http2.Http2Server {
  let session: http2.ClientHttp2Session | undefined;
  const upstream = () => {
    if (!session || session.closed || session.destroyed) {
      session = http2.connect(`http://${opts.upstream}`);
      session.on('error', (err) =>
        opts.log.warn({ err: err.message }, 'inference server gRPC connection error'),
      );
      session.unref();
    }
    return session;
  };
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const path = String(headers[':path'] ?? '');
    const method = path.startsWith(SERVICE) ? path.slice(SERVICE.length) : '';
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', () => undefined);
    stream.on('end', () => {
      handle().catch((err: Error) => {
        opts.log.warn({ err: err.message, path }, 'gRPC proxy request failed');
        sendGrpcStatus(stream, 13, err.message);
      });
    });
    const handle = async () => {
      if (isRepositoryMethod(path)) return sendGrpcStatus(stream, 7, REPOSITORY_REFUSED);
      let body: Buffer = Buffer.concat(chunks);
      let internal: string | undefined;
      let span: Span | undefined;
      if (MODEL_METHODS.has(method)) {
        const message = onlyMessage(body);
        if (!message) return sendGrpcStatus(stream, 3, 'expected exactly one uncompressed message');
        const named = readNameField(message) ?? '';
        internal = resolve(opts.manager, headers[HEADER_INTERNAL_MODEL] as string | undefined, named);
        if (!internal) return sendGrpcStatus(stream, 5, `model ${named} is not loaded on this replica`);
        span = startSpan('agent.proxy.grpc', SpanKind.SERVER, headers);
        span?.setAttribute('mlops.model', internal);
        try {
          if (!(await opts.manager.acquire(internal)))
            return sendGrpcStatus(stream, 5, `model ${internal} is not registered`);
        } catch (err) {
          endSpan(span, err);
          return sendGrpcStatus(
            stream,
            14,
            `model ${internal} could not be brought into memory: ${(err as Error).message}`,
          );
        }
        body = frameMessage(overrideNameField(message, internal));
      }
      const name = internal;
      const started = performance.now();
      forward(upstream(), headers, body, stream, span, (code) => {
        endSpanWithCode(span, code, code !== '0');
        if (name) {
          opts.manager.release(name);
          opts.metrics.inferred({
            model: opts.manager.definition(name)?.name ?? name,
            internal: name,
            protocol: 'grpc',
            method: 'grpc',
            code,
            seconds: (performance.now() - started) / 1000,
          });
        }
      });
    };
  });
  server.on('close', () => session?.close());
  return server;
}

function forward(
  session: http2.ClientHttp2Session,
  headers: http2.IncomingHttpHeaders,
  body: Buffer,
  down: http2.ServerHttp2Stream,
  parent: Span | undefined,
  done: (grpcStatus: string) => void,
): void {
  const out: http2.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (k === HEADER_INTERNAL_MODEL || k === ':authority' || k === 'content-length') continue;
    if (v !== undefined) out[k] = v;
  }
  const call = startChildSpan('inference-server.grpc', SpanKind.CLIENT, parent);
  injectSpan(call, out);
  let finished = false;
  const finish = (code: string) => {
    if (finished) return;
    finished = true;
    endSpanWithCode(call, code, code !== '0');
    done(code);
  };
  const up = session.request(out, { endStream: false });
  let trailersOnly = false;
  up.on('response', (h) => {
    const { ':status': status, ...rest } = h;
    if (down.destroyed) return;
    // A status in the headers is a trailers-only response (an error without a message).
    trailersOnly = rest['grpc-status'] !== undefined;
    if (trailersOnly) finish(String(rest['grpc-status']));
    down.respond(
      { ':status': status ?? 200, ...rest },
      trailersOnly ? { endStream: true } : { waitForTrailers: true },
    );
  });
  up.on('data', (c: Buffer) => down.write(c));
  let trailers: http2.IncomingHttpHeaders = {};
  up.on('trailers', (t) => {
    trailers = t;
  });
  up.on('end', () => {
    if (!trailersOnly && !down.destroyed) {
      down.once('wantTrailers', () => down.sendTrailers(stripPseudo(trailers)));
      down.end();
    }
    finish(String(trailers['grpc-status'] ?? '0'));
  });
  up.on('error', (err) => {
    finish('14');
    if (!down.headersSent) sendGrpcStatus(down, 14, `inference server unreachable: ${err.message}`);
    else down.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  });
  up.end(body);
}

function stripPseudo(h: http2.IncomingHttpHeaders): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (!k.startsWith(':') && v !== undefined) out[k] = v;
  return out;
}
