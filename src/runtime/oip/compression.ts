/**
 * Compressed OIP bodies: REST `Content-Encoding` / `Accept-Encoding` and gRPC per-message
 * compression (`grpc-encoding`, the frame's compressed flag). gzip and deflate are what
 * tritonclient, the KServe SDK, grpcurl and MLServer use.
 */
import zlib from 'node:zlib';
import { GrpcCode, OipError } from './errors.ts';

/** Bodies smaller than this are sent uncompressed: the gain is nil and the cost is not. */
export const COMPRESS_MIN_BYTES = 1024;

/** A request body as sent, decoded per its `Content-Encoding` (at most `limit` bytes decoded). */
export function decodeContent(body: Buffer, encoding: string | undefined, limit: number): Buffer {
  const coding = encoding?.trim().toLowerCase();
  if (!coding || coding === 'identity') return body;
  if (coding !== 'gzip' && coding !== 'deflate' && coding !== 'x-gzip') {
    throw new OipError(`Content-Encoding ${encoding} is not supported; send gzip, deflate or identity`, 415);
  }
  return inflate(coding === 'deflate' ? 'deflate' : 'gzip', body, limit, 400);
}

/** The encoding to answer with: gzip or deflate when the client accepts it (q > 0), else none. */
export function pickEncoding(acceptEncoding: string | undefined): 'gzip' | 'deflate' | undefined {
  if (!acceptEncoding) return undefined;
  const accepted = new Set<string>();
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q && Number(q.slice(2)) === 0) continue;
    accepted.add(name.trim());
  }
  if (accepted.has('gzip') || accepted.has('*')) return 'gzip';
  if (accepted.has('deflate')) return 'deflate';
  return undefined;
}

/** Compresses a response body when worth it; returns the encoding used, if any. */
export function encodeContent(
  body: Buffer,
  encoding: 'gzip' | 'deflate' | undefined,
): { body: Buffer; encoding?: string } {
  if (!encoding || body.length < COMPRESS_MIN_BYTES) return { body };
  const packed =
    encoding === 'gzip' ? zlib.gzipSync(body, { level: 1 }) : zlib.deflateSync(body, { level: 1 });
  return { body: packed, encoding };
}

/**
 * One gRPC message, decompressed when its frame says so, per the call's `grpc-encoding`. An
 * unsupported encoding is UNIMPLEMENTED, as the gRPC spec asks.
 */
export function grpcMessage(
  flag: number,
  message: Buffer,
  encoding: string | undefined,
  limit: number,
): Buffer {
  if (flag === 0) return message;
  const coding = encoding?.trim().toLowerCase();
  if (coding !== 'gzip' && coding !== 'deflate') {
    throw new OipError(
      `compressed message with grpc-encoding ${encoding ?? '(none)'}; use gzip, deflate or identity`,
      501,
      GrpcCode.UNIMPLEMENTED,
    );
  }
  return inflate(coding, message, limit, 400);
}

function inflate(coding: 'gzip' | 'deflate', body: Buffer, limit: number, status: number): Buffer {
  const opts = { maxOutputLength: limit };
  try {
    if (coding === 'gzip') return zlib.gunzipSync(body, opts);
    try {
      return zlib.inflateSync(body, opts);
    } catch {
      // Some clients send raw deflate without the zlib wrapper.
      return zlib.inflateRawSync(body, opts);
    }
  } catch (err) {
    const tooBig = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    throw new OipError(
      tooBig
        ? `${coding} body decompresses to more than ${limit} bytes; send smaller batches`
        : `${coding} body does not decompress (${(err as Error).message}); check the encoding header`,
      tooBig ? 413 : status,
    );
  }
}
