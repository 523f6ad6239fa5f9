/**
 * What the gRPC gateway does to one model call before and after it is forwarded, shared by unary
 * calls and ModelStreamInfer: decompress, validate, resolve the route, answer for the route's
 * version, and name the model in the response as the client did.
 */

import { randomUUID } from 'node:crypto';
import type http2 from 'node:http2';
import { HEADER_MODEL, HEADER_REQUEST_ID, HEADER_ROUTE } from '../../spec/headers.ts';
import { grpcMessage } from '../oip/compression.ts';
import { OipError, scrubServerDetail } from '../oip/errors.ts';
import { checkInferMessage } from '../oip/grpc-validate.ts';
import {
  decodeGrpcMessage,
  encodeGrpcMessage,
  type Frame,
  firstFrame,
  frameMessage,
  overrideNameField,
  readNameField,
} from '../oip/grpc-wire.ts';
import { decodeRequest, encodeMessage, types } from '../oip/messages.ts';
import { checkHeaderValues, checkRequestId } from '../oip/request-text.ts';
import type { GrpcUpstream } from '../upstream/grpc-upstream.ts';
import { headerValue, setTargetHeaders } from './forwarding.ts';
import type { ProtocolServerOptions } from './protocol-options.ts';
import type { Resolution, Target } from './router.ts';

export const SERVICE_PREFIX = '/inference.GRPCInferenceService/';
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'te']);
/** Calls are forwarded uncompressed, so the upstream must not compress its answer either. */
const NOT_FORWARDED = new Set(['grpc-encoding', 'grpc-accept-encoding', 'content-length']);

/** What the gRPC gateway's calls need. */
export type GrpcGatewayOptions = ProtocolServerOptions<GrpcUpstream>;

/** A call ready to forward, or answered already (`local`, the unframed response message). */
export interface Prepared {
  local?: Buffer;
  resolution?: Resolution;
  headers: http2.OutgoingHttpHeaders;
  body: Buffer;
  requestId: string;
  /** The body for another target (an experiment's mirror). */
  bodyFor?: (target: Target) => Buffer;
}

/** Prepares one ModelInfer / ModelReady / ModelMetadata message (`frame` as read off the wire). */
export function prepareCall(
  opts: Pick<GrpcGatewayOptions, 'router' | 'maxBodyBytes'>,
  method: string,
  frame: Frame | undefined,
  headers: http2.IncomingHttpHeaders,
): Prepared {
  if (!frame) throw new OipError(`${method}: truncated gRPC message`, 400);
  const message = grpcMessage(
    frame.flag,
    frame.message,
    headerValue(headers['grpc-encoding']),
    opts.maxBodyBytes,
  );
  checkHeaderValues(headers);
  const sentId = headerValue(headers[HEADER_REQUEST_ID]);
  const requestId = sentId ? checkRequestId(sentId, HEADER_REQUEST_ID) : randomUUID();
  const named = readNameField(message);
  const routeKey = headerValue(headers[HEADER_MODEL]) || named;
  if (!routeKey)
    throw new OipError(`${method}: no model name in the request and no seldon-model header`, 400);
  if (method === 'ModelInfer') checkInferMessage(decodeRequest(message), routeKey);
  let resolution: Resolution;
  try {
    resolution = opts.router.resolve(routeKey, headerValue(headers[HEADER_ROUTE]));
  } catch (err) {
    // The protocol's answer for a model that is not there (or not ready) is "not ready".
    if (method === 'ModelReady' && err instanceof OipError && (err.status === 404 || err.status === 503))
      return notReady(requestId);
    throw err;
  }
  let body: Buffer;
  if (method === 'ModelInfer') body = retarget(message, named, resolution.target);
  else {
    const req = types.ModelReadyRequest.decode(message) as unknown as { name: string; version: string };
    const target = resolution.target;
    if (method === 'ModelReady' && target.kind === 'pipeline' && !opts.router.pipelineReady(target.name))
      return notReady(requestId);
    if (req.version && target.kind === 'model' && req.version !== String(target.version)) {
      if (method === 'ModelReady') return notReady(requestId);
      throw new OipError(
        `model "${target.name}" has no version ${req.version} (serving ${target.version})`,
        404,
      );
    }
    // The version is answered here: the replica serves the route's version under its own name.
    const name = target.kind === 'model' ? target.internalName : (named ?? '');
    body = frameMessage(encodeMessage(types.ModelReadyRequest, { name }));
  }
  const out = forwardHeaders(headers);
  out[HEADER_REQUEST_ID] = requestId;
  setTargetHeaders(out, resolution.target);
  const bodyFor = (target: Target) => (method === 'ModelInfer' ? retarget(message, named, target) : body);
  return { resolution, headers: out, body, requestId, bodyFor };
}

function notReady(requestId: string): Prepared {
  return {
    local: encodeMessage(types.ModelReadyResponse, { ready: false }),
    headers: {},
    body: Buffer.alloc(0),
    requestId,
  };
}

/**
 * Field 1 names the model as its replica serves it: the internal name, which is also the
 * candidate an experiment picked.
 */
function retarget(message: Buffer, named: string | undefined, target: Target): Buffer {
  if (target.kind !== 'model' || named === target.internalName) return frameMessage(message);
  return frameMessage(overrideNameField(message, target.internalName));
}

/**
 * The upstream's answer with the model named as routed (`iris`, never the replica's internal
 * `iris_1`): field 1 of ModelInferResponse and ModelMetadataResponse.
 */
export function renameResponse(method: string, body: Buffer, target: Target | undefined): Buffer {
  if (method === 'ModelReady' || target?.kind !== 'model') return body;
  const frame = firstFrame(body);
  if (frame?.flag !== 0 || body.length !== 5 + frame.message.length) return body;
  if (readNameField(frame.message) === target.name) return body;
  return frameMessage(overrideNameField(frame.message, target.name));
}

/** Copies end-to-end headers; `for...in` rather than `Object.entries` spares an array per header on the hot path. */
export function forwardHeaders(headers: http2.IncomingHttpHeaders): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const k in headers) {
    const v = headers[k];
    if (v !== undefined && k.charCodeAt(0) !== 58 /* ':' */ && !HOP_BY_HOP.has(k) && !NOT_FORWARDED.has(k))
      out[k] = v;
  }
  return out;
}

/**
 * Takes tracebacks and file paths out of an upstream's `grpc-message` (in its trailers, or its
 * headers for a trailers-only answer) before it is relayed.
 */
export function scrubStatusMessage(headers: http2.OutgoingHttpHeaders): void {
  const message = headers['grpc-message'];
  if (message === undefined) return;
  headers['grpc-message'] = encodeGrpcMessage(scrubServerDetail(decodeGrpcMessage(String(message))));
}
