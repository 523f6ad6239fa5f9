/**
 * The REST gateway's body work around forwarding: decompress, decode the binary tensor extension
 * for servers that only read JSON (MLServer), and on the way back turn upstream errors into OIP
 * error bodies, name the model as routed, encode binary outputs and compress.
 */
import type http from 'node:http';
import { type BinaryOutputs, decodeRestRequest, encodeRestResponse, HEADER_LENGTH } from '../oip/binary.ts';
import { decodeContent } from '../oip/compression.ts';
import { errorBody, OipError, upstreamErrorMessage } from '../oip/errors.ts';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../oip/json-depth.ts';
import type { JsonInferResponse } from '../oip/json-types.ts';
import { compressFor } from '../oip/rest-body.ts';
import type { UpstreamResponse } from '../upstream/http-upstream.ts';
import { headerValue } from './forwarding.ts';
import type { Target } from './router.ts';

/** What the gateway forwards for one request, and what it must do to the answer. */
export interface OutgoingRequest {
  body: Buffer | undefined;
  binaryOutputs: BinaryOutputs;
}

/**
 * The body to forward. Models get plain JSON (binary inputs inlined, binary-output parameters
 * taken out); pipelines get the body as sent, decompressed: the pipeline gateway decodes the
 * binary extension itself. Sets the forwarded headers to match.
 */
export function requestToForward(
  req: http.IncomingMessage,
  raw: Buffer | undefined,
  headers: http.OutgoingHttpHeaders,
  resource: string,
  limit: number,
): { bodyBytes: number | undefined; decode: () => void; forTarget: (target: Target) => OutgoingRequest } {
  const body =
    raw === undefined ? undefined : decodeContent(raw, headerValue(req.headers['content-encoding']), limit);
  delete headers['content-encoding'];
  // Answers are re-encoded here as the client asks; the upstream's own compression would be in the way.
  headers['accept-encoding'] = 'identity';
  let decoded: ReturnType<typeof decodeRestRequest> | undefined;
  const decode = () => {
    if (body) decoded = decodeRestRequest(body, headerValue(req.headers[HEADER_LENGTH]), resource);
  };
  return {
    bodyBytes: body?.length,
    decode,
    /** Called once: the decoded request is let go here, not held while the upstream answers. */
    forTarget(target) {
      const d = decoded;
      decoded = undefined;
      if (!d || target.kind === 'pipeline' || !d.converted) {
        return { body, binaryOutputs: target.kind === 'pipeline' ? undefined : d?.binaryOutputs };
      }
      delete headers[HEADER_LENGTH];
      headers['content-type'] = 'application/json';
      return { body: Buffer.from(JSON.stringify(d.request)), binaryOutputs: d.binaryOutputs };
    },
  };
}

export interface Answer {
  status: number;
  headers: http.OutgoingHttpHeaders;
  body: Buffer;
}

/**
 * The client's answer from the upstream's. `action` is the OIP action (infer, ready, metadata);
 * `headers` are the forwardable upstream headers.
 */
export function answerFromUpstream(
  upstream: UpstreamResponse,
  headers: http.OutgoingHttpHeaders,
  opts: { action: string; target: Target; binaryOutputs: BinaryOutputs; acceptEncoding: string | undefined },
): Answer {
  let body = upstream.body;
  const { target } = opts;
  const resource = target.kind === 'pipeline' ? `pipeline "${target.name}"` : `model "${target.name}"`;
  if (upstream.status >= 400) {
    body = Buffer.from(errorBody(upstreamErrorMessage(upstream.status, body, resource)));
    headers['content-type'] = 'application/json';
  } else if (target.kind === 'model' && (opts.action === 'infer' || opts.action === 'metadata')) {
    const renamed = target.internalName !== target.name;
    if (opts.binaryOutputs || renamed) {
      const json = parseUpstreamJson(body, resource) as JsonInferResponse & { name?: string };
      if (opts.action === 'infer') json.model_name = target.name;
      else json.name = target.name;
      const encoded =
        opts.action === 'infer'
          ? encodeRestResponse(json, opts.binaryOutputs)
          : { body: Buffer.from(JSON.stringify(json)) };
      body = encoded.body;
      if ('headerLength' in encoded && encoded.headerLength !== undefined) {
        headers[HEADER_LENGTH] = encoded.headerLength;
        headers['content-type'] = 'application/octet-stream';
      }
    }
  }
  if (!headers['content-encoding']) body = compressFor(body, headers, opts.acceptEncoding);
  headers['content-length'] = body.length;
  return { status: upstream.status, headers, body };
}

/** An upstream's JSON answer, parsed; 502 naming the resource when it is not JSON or nests too deep. */
function parseUpstreamJson(body: Buffer, resource: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new OipError(`${resource}: the model server answered a body that is not JSON`, 502);
  }
  if (jsonDepthExceeds(value))
    throw new OipError(
      `${resource}: the model server answered JSON nested deeper than ${MAX_JSON_DEPTH} levels`,
      502,
    );
  return value;
}
