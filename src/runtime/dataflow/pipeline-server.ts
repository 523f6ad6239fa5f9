import { randomUUID } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import {
  HEADER_INTERNAL_MODEL,
  HEADER_MODEL,
  HEADER_REQUEST_ID,
  HEADER_TRACEPARENT,
} from '../../spec/headers.ts';
import type { Headers } from '../bus/bus.ts';
import { grpcMessage } from '../oip/compression.ts';
import { jsonRequestToMessage, messageToJsonResponse } from '../oip/convert.ts';
import { errorBody, GrpcCode, OipError } from '../oip/errors.ts';
import { checkInferMessage } from '../oip/grpc-validate.ts';
import { firstFrame, frameMessage, readNameField, sendGrpcStatus } from '../oip/grpc-wire.ts';
import { decodeRequest, decodeResponse, encodeMessage, encodeRequest, types } from '../oip/messages.ts';
import { checkRequestId, decodePathSegment } from '../oip/request-text.ts';
import { readInferBody, writeInferBody } from '../oip/rest-body.ts';
import type { PipelineGateway } from './pipeline-gateway.ts';

const PATH = /^\/v2\/(pipelines|models)\/([^/]+)(?:\/(infer|ready))?$/;
const GRPC_PREFIX = '/inference.GRPCInferenceService/';
const JSON_TYPE = { 'content-type': 'application/json' };

export interface PipelineServers {
  httpPort: number;
  grpcPort: number;
  close(): Promise<void>;
}

/**
 * The pipeline gateway's REST and gRPC endpoints (the data-plane gateway forwards pipeline calls
 * here). The pipeline comes from the last `seldon-internal-model`, else `seldon-model`
 * (`<p>.pipeline`), else the path or the request's model name.
 */
export async function startPipelineServers(
  gateway: PipelineGateway,
  logger: Logger,
  opts: { httpPort?: number; grpcPort?: number; host?: string; maxBodyBytes?: number } = {},
): Promise<PipelineServers> {
  const limit = opts.maxBodyBytes ?? 64 * 1024 * 1024;
  const rest = http.createServer((req, res) => {
    handleRest(gateway, req, res, limit).catch((err) => {
      logger.error({ err }, 'pipeline request failed unexpectedly');
      if (!res.headersSent) res.writeHead(500).end(errorBody('internal error'));
    });
  });
  const grpc = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  grpc.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  grpc.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    handleGrpc(gateway, stream, headers, limit).catch((err) => {
      logger.error({ err }, 'pipeline gRPC call failed unexpectedly');
      sendGrpcStatus(stream, GrpcCode.INTERNAL, 'internal error');
    });
  });
  const host = opts.host ?? '0.0.0.0';
  await new Promise<void>((r) => rest.listen(opts.httpPort ?? 0, host, r));
  await new Promise<void>((r) => grpc.listen(opts.grpcPort ?? 0, host, r));
  return {
    httpPort: (rest.address() as AddressInfo).port,
    grpcPort: (grpc.address() as AddressInfo).port,
    async close() {
      rest.closeAllConnections();
      for (const s of sessions) s.destroy();
      await Promise.all([new Promise((r) => rest.close(r)), new Promise((r) => grpc.close(r))]);
    },
  };
}

function pipelineName(headers: http.IncomingHttpHeaders, fallback: string | undefined): string | undefined {
  const internal = headers[HEADER_INTERNAL_MODEL];
  const value =
    (Array.isArray(internal) ? internal[internal.length - 1] : internal) ??
    (headers[HEADER_MODEL] as string | undefined) ??
    fallback;
  if (!value) return undefined;
  return value.endsWith('.pipeline') ? value.slice(0, -'.pipeline'.length) : value;
}

function xHeaders(headers: http.IncomingHttpHeaders, requestId: string): Headers {
  const out: Headers = {};
  for (const [k, v] of Object.entries(headers))
    if ((k.startsWith('x-') || k === HEADER_TRACEPARENT) && typeof v === 'string') out[k] = v;
  out[HEADER_REQUEST_ID] = requestId;
  return out;
}

function responseHeaders(record: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record)) if (k.startsWith('x-')) out[k] = v;
  return out;
}

async function handleRest(
  gateway: PipelineGateway,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  limit: number,
) {
  const sentId = req.headers[HEADER_REQUEST_ID] as string | undefined;
  // A bad id is refused below; the answer then carries this fresh one.
  let requestId: string = randomUUID();
  const path = (req.url ?? '/').split('?', 1)[0];
  try {
    if (sentId) requestId = checkRequestId(sentId, HEADER_REQUEST_ID);
    if (req.method === 'GET' && path === '/metrics') {
      const { registry } = gateway.metrics;
      res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
      return;
    }
    if (
      req.method === 'GET' &&
      (path === '/v2/health/live' || path === '/v2/health/ready' || path === '/ready')
    ) {
      const live = path === '/v2/health/live';
      res.writeHead(200, JSON_TYPE).end(JSON.stringify(live ? { live: true } : { ready: true }));
      return;
    }
    const m = PATH.exec(path);
    if (!m) throw new OipError(`no pipeline endpoint at ${req.method} ${path}`, 404);
    const name = pipelineName(req.headers, decodePathSegment(m[2]));
    if (!name) throw new OipError('no pipeline named in the request', 400);
    if (m[3] === 'ready') {
      const ready = gateway.has(name);
      res.writeHead(ready ? 200 : 404, JSON_TYPE).end(JSON.stringify({ ready }));
      return;
    }
    if (m[3] === undefined) {
      if (!gateway.has(name))
        throw new OipError(`pipeline "${name}" not found on this pipeline gateway`, 404);
      res.writeHead(200, JSON_TYPE).end(JSON.stringify(pipelineMetadata(name)));
      return;
    }
    if (req.method !== 'POST') throw new OipError(`${path} accepts POST, not ${req.method}`, 405);
    const decoded = readInferBody(await readBody(req, limit), req.headers, limit, `${name}.pipeline`);
    const request = encodeRequest(jsonRequestToMessage(decoded.request, name));
    const result = await gateway.infer(name, request, xHeaders(req.headers, requestId));
    const response = writeInferBody(
      messageToJsonResponse(decodeResponse(result.value)),
      decoded.binaryOutputs,
      req.headers['accept-encoding'],
    );
    res
      .writeHead(200, {
        ...responseHeaders(result.headers),
        ...response.headers,
        [HEADER_REQUEST_ID]: requestId,
      })
      .end(response.body);
  } catch (err) {
    const e = err instanceof OipError ? err : new OipError((err as Error).message, 500);
    if (!res.headersSent)
      res
        .writeHead(e.status, { 'content-type': 'application/json', [HEADER_REQUEST_ID]: requestId })
        .end(errorBody(e.message));
  }
}

async function handleGrpc(
  gateway: PipelineGateway,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  limit: number,
) {
  const path = String(headers[':path'] ?? '');
  const method = path.startsWith(GRPC_PREFIX) ? path.slice(GRPC_PREFIX.length) : '';
  try {
    const body = await readBody(stream, limit);
    if (method === 'ServerLive' || method === 'ServerReady') {
      const type = method === 'ServerLive' ? types.ServerLiveResponse : types.ServerReadyResponse;
      respond(
        stream,
        frameMessage(encodeMessage(type, method === 'ServerLive' ? { live: true } : { ready: true })),
        {},
      );
      return;
    }
    if (method !== 'ModelInfer' && method !== 'ModelReady' && method !== 'ModelMetadata')
      throw new OipError(`${method || path} is not served here`, 501);
    const frame = firstFrame(body);
    if (!frame) throw new OipError(`${method}: truncated gRPC message`, 400);
    const encoding = headers['grpc-encoding'];
    const message = grpcMessage(
      frame.flag,
      frame.message,
      Array.isArray(encoding) ? encoding[0] : encoding,
      limit,
    );
    const name = pipelineName(headers, readNameField(message));
    if (!name) throw new OipError(`${method}: no pipeline named in the request`, 400);
    if (method === 'ModelReady') {
      respond(
        stream,
        frameMessage(encodeMessage(types.ModelReadyResponse, { ready: gateway.has(name) })),
        {},
      );
      return;
    }
    if (method === 'ModelMetadata') {
      if (!gateway.has(name))
        throw new OipError(`pipeline "${name}" not found on this pipeline gateway`, 404);
      respond(stream, frameMessage(encodeMessage(types.ModelMetadataResponse, pipelineMetadata(name))), {});
      return;
    }
    checkInferMessage(decodeRequest(message), `${name}.pipeline`);
    const requestId = (headers[HEADER_REQUEST_ID] as string | undefined) || randomUUID();
    const result = await gateway.infer(name, Buffer.from(message), xHeaders(headers, requestId), 'grpc');
    respond(stream, frameMessage(result.value), {
      ...responseHeaders(result.headers),
      [HEADER_REQUEST_ID]: requestId,
    });
  } catch (err) {
    const e = err instanceof OipError ? err : new OipError((err as Error).message, 500);
    sendGrpcStatus(stream, e.grpcCode, e.message);
  }
}

/**
 * Pipeline metadata: its name and version. Its tensors are whatever its steps produce, which
 * only the models know, so none are listed.
 */
function pipelineMetadata(name: string) {
  return { name, versions: ['1'], platform: 'seldon-pipeline', inputs: [], outputs: [] };
}

function respond(stream: http2.ServerHttp2Stream, body: Buffer, headers: Record<string, string>): void {
  if (stream.destroyed || stream.closed) return;
  stream.respond(
    { ':status': 200, 'content-type': 'application/grpc', ...headers },
    { waitForTrailers: true },
  );
  stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(body);
}

function readBody(stream: NodeJS.ReadableStream & { destroy(): void }, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new OipError(`request exceeds ${limit} bytes`, 413));
        stream.destroy();
        return;
      }
      chunks.push(c);
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}
