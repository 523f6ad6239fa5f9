/**
 * An OIP REST inference body as a server reads and writes it: decompressed and decoded from JSON
 * or the binary tensor extension on the way in; encoded as the client asked (binary outputs,
 * gzip/deflate) on the way out.
 */
import type http from 'node:http';
import {
  type BinaryOutputs,
  type DecodedRequest,
  decodeRestRequest,
  encodeRestResponse,
  HEADER_LENGTH,
} from './binary.ts';
import { decodeContent, encodeContent, pickEncoding } from './compression.ts';
import type { JsonInferResponse } from './json-types.ts';

/** The request body, whatever its encoding, as a checked JSON request. */
export function readInferBody(
  raw: Buffer,
  headers: http.IncomingHttpHeaders,
  limit: number,
  resource: string,
): DecodedRequest {
  const body = decodeContent(raw, lastValue(headers['content-encoding']), limit);
  return decodeRestRequest(body, lastValue(headers[HEADER_LENGTH]), resource);
}

/** The response body and the headers that describe it (type, binary header length, encoding). */
export function writeInferBody(
  response: JsonInferResponse,
  binaryOutputs: BinaryOutputs,
  acceptEncoding: string | string[] | undefined,
): { body: Buffer; headers: http.OutgoingHttpHeaders } {
  const encoded = encodeRestResponse(response, binaryOutputs);
  const headers: http.OutgoingHttpHeaders = {
    'content-type': encoded.headerLength === undefined ? 'application/json' : 'application/octet-stream',
  };
  if (encoded.headerLength !== undefined) headers[HEADER_LENGTH] = encoded.headerLength;
  return { body: compressFor(encoded.body, headers, acceptEncoding), headers };
}

/** Compresses `body` when the client accepts it, saying so in `headers`. */
export function compressFor(
  body: Buffer,
  headers: http.OutgoingHttpHeaders,
  acceptEncoding: string | string[] | undefined,
): Buffer {
  const packed = encodeContent(body, pickEncoding(lastValue(acceptEncoding)));
  if (packed.encoding) {
    headers['content-encoding'] = packed.encoding;
    headers.vary = 'Accept-Encoding';
  }
  return packed.body;
}

function lastValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[v.length - 1] : v;
}
