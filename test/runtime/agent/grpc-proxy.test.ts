import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactCache } from '../../../src/runtime/agent/artifacts.ts';
import { createGrpcProxy } from '../../../src/runtime/agent/grpc-proxy.ts';
import { AgentMetrics } from '../../../src/runtime/agent/metrics.ts';
import { ModelManager } from '../../../src/runtime/agent/model-manager.ts';
import type { ModelServer } from '../../../src/runtime/agent/repository-client.ts';
import { firstMessage, frameMessage, readNameField } from '../../../src/runtime/oip/grpc-wire.ts';
import { encodeMessage, types } from '../../../src/runtime/oip/messages.ts';
import { HEADER_REPLICA_UNAVAILABLE } from '../../../src/spec/headers.ts';

const SERVICE = '/inference.GRPCInferenceService/';
const log = pino({ level: 'silent' });

interface Seen {
  method: string;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
}

/** An inference server's gRPC side: records each call; ModelReady/ModelMetadata answer about the name they were asked. */
function fakeUpstream() {
  const seen: Seen[] = [];
  const answers: Buffer[] = [];
  /** `lost`: answers NOT_FOUND once, as a restarted server does; `dies`: drops the connection. */
  const behaviour = { mode: 'answer' as 'answer' | 'lost' | 'dies' };
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const method = String(headers[':path']).slice(SERVICE.length);
      const body = Buffer.concat(chunks);
      seen.push({ method, headers, body });
      if (behaviour.mode === 'dies') return stream.session?.destroy();
      if (behaviour.mode === 'lost') {
        behaviour.mode = 'answer';
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5' },
          { endStream: true },
        );
        return;
      }
      const asked = readNameField(firstMessage(body) ?? Buffer.alloc(0)) ?? '';
      const message =
        method === 'ModelMetadata'
          ? encodeMessage(types.ModelMetadataResponse, {
              name: asked,
              versions: ['1', '2'],
              platform: 'sklearn',
            })
          : method === 'ModelReady'
            ? encodeMessage(types.ModelReadyResponse, { ready: asked === 'iris_2' })
            : encodeMessage(types.ServerReadyResponse, { ready: true });
      const framed = frameMessage(message);
      answers.push(framed);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(framed);
    });
  });
  return { server, seen, answers, behaviour };
}

interface Reply {
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  trailers: http2.IncomingHttpHeaders;
}

function call(port: number, method: string, message: Buffer, headers: Record<string, string> = {}) {
  const client = http2.connect(`http://127.0.0.1:${port}`);
  return new Promise<Reply>((resolve, reject) => {
    const req = client.request({
      ':method': 'POST',
      ':path': `${SERVICE}${method}`,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...headers,
    });
    const reply: Reply = { headers: {}, body: Buffer.alloc(0), trailers: {} };
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      reply.headers = h;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('trailers', (t) => {
      reply.trailers = t;
    });
    req.on('end', () => resolve({ ...reply, body: Buffer.concat(chunks) }));
    req.on('error', reject);
    req.end(frameMessage(message));
  }).finally(() => client.close());
}

/** The gRPC status of a reply, whether trailers-only (in the headers) or in the trailers. */
const status = (r: Reply) => String(r.headers['grpc-status'] ?? r.trailers['grpc-status']);

let dir: string;
let up: ReturnType<typeof fakeUpstream>;
let proxy: http2.Http2Server;
let port: number;
let manager: ModelManager;
let metrics: AgentMetrics;
let serverUp: boolean;
let serverFailures: number;
let loads: number;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlops-grpc-proxy-'));
  mkdirSync(join(dir, 'art'));
  writeFileSync(join(dir, 'art', 'model-settings.json'), '{}');
  up = fakeUpstream();
  await new Promise<void>((r) => up.server.listen(0, '127.0.0.1', r));
  serverUp = true;
  serverFailures = 0;
  loads = 0;
  const control: ModelServer = {
    load: async () => void loads++,
    unload: async () => {},
    ready: async () => true,
  };
  metrics = new AgentMetrics();
  manager = new ModelManager({
    cache: new ArtifactCache(join(dir, 'cache'), join(dir, 'models')),
    server: control,
    metrics,
    log,
    memoryBytes: 100,
    minResidencyMs: 0,
  });
  for (const version of [1, 2])
    await manager.load({
      name: 'iris',
      namespace: '',
      version,
      storageUri: pathToFileURL(join(dir, 'art')).href,
      artifactVersion: 0,
      requirements: [],
      memoryBytes: 10,
      server: '',
      parameters: [],
      secretName: '',
    });
  proxy = createGrpcProxy({
    manager,
    upstream: `127.0.0.1:${(up.server.address() as AddressInfo).port}`,
    metrics,
    log,
    serverUp: () => serverUp,
    onServerFailure: () => void serverFailures++,
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  port = (proxy.address() as AddressInfo).port;
});
afterEach(async () => {
  await new Promise((r) => proxy.close(r));
  await new Promise((r) => up.server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const decode = (type: keyof typeof types, body: Buffer) =>
  types[type].toObject(types[type].decode(firstMessage(body) ?? Buffer.alloc(0)));

describe('agent gRPC proxy', () => {
  it('ModelReady: the model name becomes the newest internal name upstream; the answer comes back as sent', async () => {
    const reply = await call(port, 'ModelReady', encodeMessage(types.ModelReadyRequest, { name: 'iris' }));
    expect(status(reply)).toBe('0');
    expect(up.seen.map((s) => s.method)).toEqual(['ModelReady']);
    const forwarded = firstMessage(up.seen[0].body) ?? Buffer.alloc(0);
    expect(readNameField(forwarded)).toBe('iris_2');
    expect(types.ModelReadyRequest.toObject(types.ModelReadyRequest.decode(forwarded))).toEqual({
      name: 'iris_2',
    });
    expect(decode('ModelReadyResponse', reply.body)).toEqual({ ready: true });
    expect(reply.body.equals(up.answers[0])).toBe(true);
    // The request was counted under the internal name and is no longer in flight.
    expect((await metrics.requests.get()).values).toContainEqual(
      expect.objectContaining({ labels: { model: 'iris_2', protocol: 'grpc', code: '0' }, value: 1 }),
    );
    expect(manager.lru.get('iris_2')?.inFlight).toBe(0);
  });

  it('ModelMetadata: the gateway header picks the version and is not forwarded; the response is not rewritten', async () => {
    const reply = await call(
      port,
      'ModelMetadata',
      encodeMessage(types.ModelMetadataRequest, { name: 'iris', version: '1' }),
      { 'seldon-internal-model': 'iris_1', 'x-request-id': 'r1' },
    );
    expect(status(reply)).toBe('0');
    const forwarded = types.ModelMetadataRequest.decode(firstMessage(up.seen[0].body) ?? Buffer.alloc(0));
    expect(types.ModelMetadataRequest.toObject(forwarded)).toEqual({ name: 'iris_1', version: '1' });
    expect(up.seen[0].headers['seldon-internal-model']).toBeUndefined();
    expect(up.seen[0].headers['x-request-id']).toBe('r1');
    // The inference server's own answer (naming the internal model) reaches the caller byte for byte.
    expect(decode('ModelMetadataResponse', reply.body)).toMatchObject({
      name: 'iris_1',
      platform: 'sklearn',
    });
    expect(reply.body.equals(up.answers[0])).toBe(true);
  });

  it('refuses a model this replica does not hold without calling upstream', async () => {
    const reply = await call(port, 'ModelReady', encodeMessage(types.ModelReadyRequest, { name: 'wine' }));
    expect(reply.headers['grpc-status']).toBe('5');
    expect(decodeURIComponent(String(reply.headers['grpc-message']))).toBe(
      'model wine is not loaded on this replica',
    );
    expect(up.seen).toEqual([]);
  });

  const infer = () =>
    call(
      port,
      'ModelInfer',
      encodeMessage(types.ModelInferRequest, {
        modelName: 'iris',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1], contents: { fp32Contents: [1] } }],
      }),
    );
  const unavailableHere = (r: Reply) => [r.headers['grpc-status'], r.headers[HEADER_REPLICA_UNAVAILABLE]];

  it("answers UNAVAILABLE marked as this replica's while its inference server is down, without calling it", async () => {
    serverUp = false;
    expect(unavailableHere(await infer())).toEqual(['14', '1']);
    expect(up.seen).toEqual([]);
  });

  it('marks UNAVAILABLE when the inference server refuses or drops the call, and reports a refusal', async () => {
    up.behaviour.mode = 'dies';
    // Dropped mid-call: the caller gets an answer, not a hang.
    expect(unavailableHere(await infer())).toEqual(['14', '1']);
    expect(serverFailures).toBe(0);
    await new Promise((r) => up.server.close(r));
    expect(unavailableHere(await infer())).toEqual(['14', '1']);
    expect(serverFailures).toBe(1);
    expect(manager.lru.get('iris_2')?.inFlight).toBe(0);
  });

  it('loads the model again once when a restarted inference server has lost it, then answers', async () => {
    const before = loads;
    up.behaviour.mode = 'lost';
    const reply = await infer();
    expect(status(reply)).toBe('0');
    expect(up.seen.map((s) => s.method)).toEqual(['ModelInfer', 'ModelInfer']);
    expect(loads).toBe(before + 1);
  });

  it('passes other methods through untouched', async () => {
    const reply = await call(port, 'ServerReady', Buffer.alloc(0));
    expect(status(reply)).toBe('0');
    expect(up.seen.map((s) => [s.method, s.body.length])).toEqual([['ServerReady', 5]]);
    expect(decode('ServerReadyResponse', reply.body)).toEqual({ ready: true });
  });
});
