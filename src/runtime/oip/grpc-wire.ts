/**
 * OIP over gRPC at the wire level: message framing, the model-name field, and trailers-only
 * statuses, so proxies can route and rewrite calls without decoding tensors.
 */
import http2 from 'node:http2';

/** gRPC length-prefixed message framing (1 byte compressed flag + 4 bytes big-endian length). */
export function frameMessage(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** The first message of a framed body, or undefined when the body is truncated or compressed. */
export function firstMessage(body: Buffer): Buffer | undefined {
  if (body.length < 5 || body[0] !== 0) return undefined;
  const len = body.readUInt32BE(1);
  if (body.length < 5 + len) return undefined;
  return body.subarray(5, 5 + len);
}

/** The message of a body that frames exactly one uncompressed message, else undefined. */
export function onlyMessage(body: Buffer): Buffer | undefined {
  const message = firstMessage(body);
  return message && body.length === 5 + message.length ? message : undefined;
}

/**
 * Reads string field 1 of a protobuf message without decoding the rest: it is the model name in
 * ModelInferRequest, ModelReadyRequest and ModelMetadataRequest. The last occurrence wins, as on
 * a protobuf decode, so a name appended by `overrideNameField` is the one read.
 */
export function readNameField(bytes: Uint8Array): string | undefined {
  let pos = 0;
  let found: string | undefined;
  while (pos < bytes.length) {
    const [key, afterKey] = readVarint(bytes, pos);
    if (afterKey < 0) return undefined;
    const field = key >>> 3;
    const wire = key & 7;
    pos = afterKey;
    if (wire === 2) {
      const [len, afterLen] = readVarint(bytes, pos);
      if (afterLen < 0 || afterLen + len > bytes.length) return undefined;
      if (field === 1) found = Buffer.from(bytes.buffer, bytes.byteOffset + afterLen, len).toString('utf8');
      pos = afterLen + len;
    } else if (wire === 0) {
      const [, next] = readVarint(bytes, pos);
      if (next < 0) return undefined;
      pos = next;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else return undefined;
  }
  return found;
}

function readVarint(bytes: Uint8Array, start: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (let pos = start; pos < bytes.length && shift < 35; pos++) {
    const b = bytes[pos];
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [result, pos + 1];
    shift += 7;
  }
  return [0, -1];
}

/** Appends field 1 (string) to a protobuf message: the last occurrence of a field wins on decode. */
export function overrideNameField(message: Uint8Array, name: string): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  const lenBytes: number[] = [];
  let n = nameBytes.length;
  while (n > 0x7f) {
    lenBytes.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  lenBytes.push(n);
  return Buffer.concat([message, Buffer.from([0x0a, ...lenBytes]), nameBytes]);
}

/**
 * Ends a call with a gRPC status. Before any response headers this is a trailers-only response;
 * after them the stream is reset, since a status can no longer be sent cleanly.
 */
export function sendGrpcStatus(
  stream: http2.ServerHttp2Stream,
  code: number,
  message: string,
  metadata: http2.OutgoingHttpHeaders = {},
): void {
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': String(code),
      'grpc-message': encodeGrpcMessage(message),
      ...metadata,
    },
    { endStream: true },
  );
}

/** One length-prefixed message as read off the wire: its compressed flag and its bytes. */
export interface Frame {
  flag: number;
  message: Buffer;
}

/** Splits a stream's data into gRPC frames as the chunks arrive (streaming calls). */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly limit: number) {}

  /** The frames completed by this chunk. Throws when a frame announces more than `limit` bytes. */
  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Frame[] = [];
    while (this.pending.length >= 5) {
      const len = this.pending.readUInt32BE(1);
      if (len > this.limit) throw new Error(`message of ${len} bytes exceeds ${this.limit}`);
      if (this.pending.length < 5 + len) break;
      frames.push({ flag: this.pending[0], message: this.pending.subarray(5, 5 + len) });
      this.pending = this.pending.subarray(5 + len);
    }
    return frames;
  }

  /** Bytes of an unfinished frame left over (a truncated message when the stream has ended). */
  get leftover(): number {
    return this.pending.length;
  }
}

/** The first frame of a unary call's body with its flag, or undefined when truncated. */
export function firstFrame(body: Buffer): Frame | undefined {
  if (body.length < 5) return undefined;
  const len = body.readUInt32BE(1);
  if (body.length < 5 + len) return undefined;
  return { flag: body[0], message: body.subarray(5, 5 + len) };
}

/**
 * A status message as the gRPC spec percent-encodes it: only bytes outside printable ASCII, and
 * `%`, are escaped (clients decode just those; `encodeURIComponent` would leave `%3A` in sight).
 */
export function encodeGrpcMessage(message: string): string {
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** A `grpc-message` as sent, percent-decoded; a malformed escape is kept as it is, not thrown on. */
export function decodeGrpcMessage(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}
