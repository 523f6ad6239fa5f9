import http2 from 'node:http2';
import type { Logger } from 'pino';
import { HEADER_INTERNAL_MODEL, HEADER_REPLICA_UNAVAILABLE } from '../../spec/headers.ts';
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
import { resolve, SERVER_DOWN } from './proxy.ts';
import { isRepositoryMethod, REPOSITORY_REFUSED } from './repository-guard.ts';

const SERVICE = '/inference.GRPCInferenceService/';
/** Methods whose request's field 1 names the model (ModelInferRequest.model_name,
 * ModelReadyRequest.name, ModelMetadataRequest.name). */
const MODEL_METHODS = new Set(['ModelInfer', 'ModelReady', 'ModelMetadata']);
const UNAVAILABLE = 14;
const NOT_FOUND = 5;
/** Tells the gateway that nothing was processed here, so another replica may take the call. */
const REPLICA_UNAVAILABLE = { [HEADER_REPLICA_UNAVAILABLE]: '1' };

/**
 * gRPC reverse proxy at the HTTP/2 level: the request is not decoded beyond field 1 of its single
 * message. The model's internal name comes from the `seldon-internal-model` header or that field;
 * the model is brought into memory first, then the message is forwarded with field 1 appended as
 * the internal name (on decode the last occurrence of a field wins). Other methods pass through.
 * As the REST proxy does, it answers UNAVAILABLE marked as the replica's (see
 * HEADER_REPLICA_UNAVAILABLE) when its inference server is down or gives no answer, and loads a
 * model again once when a restarted server answers NOT_FOUND for it.
 */
export function createGrpcProxy(opts: {
  manager: ModelManager;
  upstream: string;
  metrics: AgentMetrics;
  log: Logger;
  /** False while the inference server is known to be down. */
  serverUp?: () => boolean;
  /** The inference server refused a connection. */
  onServerFailure?: () => void;
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
        if (opts.serverUp && !opts.serverUp())
          return sendGrpcStatus(stream, UNAVAILABLE, SERVER_DOWN, REPLICA_UNAVAILABLE);
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
      const done = (code: string) => {
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
      };
      const call: Call = {
        headers,
        body,
        down: stream,
        parent: span,
        done,
        onRefused: () => opts.onServerFailure?.(),
      };
      // A restarted inference server has lost the models it held: load this one again, once.
      const reload =
        name && method === 'ModelInfer'
          ? () =>
              opts.manager.reloadLost(name).then(
                () => forward(upstream(), call),
                (err: Error) => {
                  sendGrpcStatus(
                    stream,
                    UNAVAILABLE,
                    `model ${name} could not be loaded again: ${err.message}`,
                  );
                  done(String(UNAVAILABLE));
                },
              )
          : undefined;
      forward(upstream(), { ...call, reload });
    };
  });
  server.on('close', () => session?.close());
  return server;
}

interface Call {
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  down: http2.ServerHttp2Stream;
  parent: Span | undefined;
  /** Called once with the call's gRPC status, unless `reload` takes the call over. */
  done: (grpcStatus: string) => void;
  onRefused: () => void;
  /** Takes over a call the inference server answered NOT_FOUND (trailers only). */
  reload?: () => void;
}

function forward(session: http2.ClientHttp2Session, c: Call): void {
  const { down } = c;
  const out: http2.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(c.headers)) {
    if (k === HEADER_INTERNAL_MODEL || k === ':authority' || k === 'content-length') continue;
    if (v !== undefined) out[k] = v;
  }
  const span = startChildSpan('inference-server.grpc', SpanKind.CLIENT, c.parent);
  injectSpan(span, out);
  let finished = false;
  const finish = (code: string) => {
    if (finished) return;
    finished = true;
    endSpanWithCode(span, code, code !== '0');
    c.done(code);
  };
  // Nothing came back from the server (refused, reset, or gone mid-call before answering):
  // another replica can answer instead.
  const unreachable = (reason: string, refused: boolean) => {
    if (finished) return;
    if (refused) c.onRefused();
    finish(String(UNAVAILABLE));
    if (!down.headersSent)
      sendGrpcStatus(down, UNAVAILABLE, `inference server unreachable: ${reason}`, REPLICA_UNAVAILABLE);
    else down.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  };
  let up: http2.ClientHttp2Stream;
  try {
    up = session.request(out, { endStream: false });
  } catch (err) {
    unreachable((err as Error).message, false);
    return;
  }
  let trailersOnly = false;
  let answered = false;
  up.on('response', (h) => {
    answered = true;
    const { ':status': status, ...rest } = h;
    if (down.destroyed) return;
    // A status in the headers is a trailers-only response (an error without a message).
    trailersOnly = rest['grpc-status'] !== undefined;
    if (trailersOnly && Number(rest['grpc-status']) === NOT_FOUND && c.reload) {
      finished = true;
      endSpan(span, undefined);
      up.close();
      c.reload();
      return;
    }
    if (trailersOnly) finish(String(rest['grpc-status']));
    down.respond(
      { ':status': status ?? 200, ...rest },
      trailersOnly ? { endStream: true } : { waitForTrailers: true },
    );
  });
  up.on('data', (chunk: Buffer) => down.write(chunk));
  let trailers: http2.IncomingHttpHeaders = {};
  up.on('trailers', (t) => {
    trailers = t;
  });
  up.on('end', () => {
    // Finished already: a trailers-only answer, one handed to `reload`, or one given up on.
    if (finished) return;
    // A stream reset ends it too.
    if (!answered) return unreachable('the call was dropped before an answer', false);
    if (!down.destroyed) {
      down.once('wantTrailers', () => down.sendTrailers(stripPseudo(trailers)));
      down.end();
    }
    finish(String(trailers['grpc-status'] ?? '0'));
  });
  up.on('error', (err: Error & { cause?: { code?: string } }) =>
    unreachable(err.message, (err.cause?.code ?? (err as NodeJS.ErrnoException).code) === 'ECONNREFUSED'),
  );
  // A server killed mid-call resets the stream without an error event.
  up.on('close', () => unreachable('the call was dropped before an answer', false));
  up.end(c.body);
}

function stripPseudo(h: http2.IncomingHttpHeaders): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (!k.startsWith(':') && v !== undefined) out[k] = v;
  return out;
}
