import http2 from 'node:http2';
import type { Logger } from 'pino';
import type { AgentMetrics } from './metrics.ts';
import type { ModelManager } from './model-manager.ts';
import { INTERNAL_MODEL_HEADER, resolve } from './proxy.ts';

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
        grpcError(stream, 13, err.message);
      });
    });
    const handle = async () => {
      let body: Buffer = Buffer.concat(chunks);
      let internal: string | undefined;
      if (MODEL_METHODS.has(method)) {
        const message = singleMessage(body);
        if (!message) return grpcError(stream, 3, 'expected exactly one uncompressed message');
        const named = stringField1(message) ?? '';
        internal = resolve(opts.manager, headers[INTERNAL_MODEL_HEADER] as string | undefined, named);
        if (!internal) return grpcError(stream, 5, `model ${named} is not loaded on this replica`);
        try {
          if (!(await opts.manager.acquire(internal)))
            return grpcError(stream, 5, `model ${internal} is not registered`);
        } catch (err) {
          return grpcError(
            stream,
            14,
            `model ${internal} could not be brought into memory: ${(err as Error).message}`,
          );
        }
        body = frame(appendField1(message, internal));
      }
      const name = internal;
      forward(upstream(), headers, body, stream, (code) => {
        if (name) {
          opts.manager.release(name);
          opts.metrics.requests.inc({ model: name, protocol: 'grpc', code });
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
  done: (grpcStatus: string) => void,
): void {
  const out: http2.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (k === INTERNAL_MODEL_HEADER || k === ':authority' || k === 'content-length') continue;
    if (v !== undefined) out[k] = v;
  }
  let finished = false;
  const finish = (code: string) => {
    if (finished) return;
    finished = true;
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
    if (!down.headersSent) grpcError(down, 14, `inference server unreachable: ${err.message}`);
    else down.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  });
  up.end(body);
}

function stripPseudo(h: http2.IncomingHttpHeaders): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (!k.startsWith(':') && v !== undefined) out[k] = v;
  return out;
}

function grpcError(stream: http2.ServerHttp2Stream, code: number, message: string): void {
  if (stream.destroyed) return;
  if (stream.headersSent) {
    stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': String(code),
      'grpc-message': encodeURIComponent(message),
    },
    { endStream: true },
  );
}

function singleMessage(body: Buffer): Buffer | undefined {
  if (body.length < 5 || body[0] !== 0) return undefined;
  const len = body.readUInt32BE(1);
  return body.length === 5 + len ? body.subarray(5) : undefined;
}

function frame(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

function varint(buf: Buffer, pos: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, pos];
    shift += 7;
  }
}

/** The last value of field 1 (a string) of a protobuf message, walking only the top level. */
export function stringField1(msg: Buffer): string | undefined {
  let pos = 0;
  let found: string | undefined;
  try {
    while (pos < msg.length) {
      let tag: number;
      [tag, pos] = varint(msg, pos);
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (wire === 0) [, pos] = varint(msg, pos);
      else if (wire === 1) pos += 8;
      else if (wire === 5) pos += 4;
      else if (wire === 2) {
        let len: number;
        [len, pos] = varint(msg, pos);
        if (field === 1) found = msg.subarray(pos, pos + len).toString('utf8');
        pos += len;
      } else return found;
    }
  } catch {
    return found;
  }
  return found;
}

/** Appends field 1 = `value`: decoders keep the last occurrence of a singular field. */
export function appendField1(msg: Buffer, value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const len: number[] = [];
  let n = bytes.length;
  while (n > 0x7f) {
    len.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  len.push(n);
  return Buffer.concat([msg, Buffer.from([0x0a, ...len]), bytes]);
}
