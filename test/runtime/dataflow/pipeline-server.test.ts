import http2 from 'node:http2';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../../src/runtime/bus/memory-bus.ts';
import { PipelineEngine } from '../../../src/runtime/dataflow/engine.ts';
import { ModelGateway } from '../../../src/runtime/dataflow/model-gateway.ts';
import { PipelineGateway } from '../../../src/runtime/dataflow/pipeline-gateway.ts';
import { type PipelineServers, startPipelineServers } from '../../../src/runtime/dataflow/pipeline-server.ts';
import { planPipeline } from '../../../src/runtime/dataflow/plan.ts';
import { decodeRaw, jsonRequestToMessage, messageToJsonResponse } from '../../../src/runtime/oip/convert.ts';
import { firstMessage, frameMessage } from '../../../src/runtime/oip/grpc-wire.ts';
import type { JsonTensor } from '../../../src/runtime/oip/json-types.ts';
import { decodeResponse, encodeMessage, encodeRequest, types } from '../../../src/runtime/oip/messages.ts';
import { DEFAULT_NAMING, pipelineTopic } from '../../../src/spec/topics.ts';
import { FakeModels, silent, tensor } from './fixtures.ts';

// The pipeline REST and gRPC endpoints over the in-process bus: pipeline `p` runs model `a`
// (adds one); `ghost` is served by the gateway but no engine runs it, so its calls time out.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
let bus: MemoryBus;
let servers: PipelineServers;
let stops: (() => Promise<void>)[];
let base: string;

beforeAll(async () => {
  bus = new MemoryBus(2);
  const engine = new PipelineEngine(
    planPipeline('p', { steps: [{ name: 'a' }], output: { steps: ['a'] } }, DEFAULT_NAMING),
    bus,
    DEFAULT_NAMING,
    silent,
  );
  const models = new FakeModels({
    a: (inputs) =>
      (inputs[0].data as number[]).includes(-1)
        ? new Error('negative input')
        : [
            tensor(
              'out',
              (inputs[0].data as number[]).map((v) => v + 1),
            ),
          ],
  });
  const modelGateway = new ModelGateway(bus, DEFAULT_NAMING, ['a'], models, silent);
  const gateway = new PipelineGateway(bus, DEFAULT_NAMING, ['p', 'ghost'], silent, 300);
  await engine.start();
  await modelGateway.start();
  await gateway.start();
  servers = await startPipelineServers(gateway, silent, { host: '127.0.0.1' });
  base = `http://127.0.0.1:${servers.httpPort}`;
  stops = [() => servers.close(), () => gateway.stop(), () => modelGateway.stop(), () => engine.stop()];
});
afterAll(async () => {
  for (const stop of stops) await stop();
});

const body = (data: number[]) => JSON.stringify({ id: 'req', inputs: [tensor('in', data)] });
const post = (path: string, payload: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: payload,
  });

/** A REST answer's body: an inference response or an OIP error. */
const bodyOf = async (res: Response) => (await res.json()) as { outputs: JsonTensor[]; error?: string };

/** The request records the gateway published on `pipeline`'s input topic. */
const published = async (pipeline: string) =>
  bus.readSince(pipelineTopic(DEFAULT_NAMING, pipeline, 'inputs'), 0);

describe('pipeline REST endpoint', () => {
  it('runs the pipeline, keeping the caller request id and x- headers', async () => {
    const res = await post('/v2/pipelines/p/infer', body([1, 2]), {
      'x-request-id': 'rid-1',
      'x-tenant': 't1',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('rid-1');
    expect(res.headers.get('x-tenant')).toBe('t1');
    expect((await bodyOf(res)).outputs).toEqual([
      { name: 'out', datatype: 'FP32', shape: [1, 2], data: [2, 3] },
    ]);
    const sent = (await published('p')).find((r) => r.headers['x-request-id'] === 'rid-1');
    expect(sent?.headers).toMatchObject({ 'x-tenant': 't1', pipeline: 'p' });
  });

  it('makes up a request id when none is given, sends it with the request and returns it', async () => {
    const res = await post('/v2/pipelines/p/infer', body([5]));
    expect(res.status).toBe(200);
    const id = res.headers.get('x-request-id') ?? '';
    expect(id).toMatch(UUID);
    expect((await published('p')).some((r) => r.headers['x-request-id'] === id)).toBe(true);
  });

  it('takes the pipeline from seldon-internal-model, then seldon-model, over the path', async () => {
    const viaModel = await post('/v2/models/whatever/infer', body([1]), { 'seldon-model': 'p.pipeline' });
    expect(viaModel.status).toBe(200);
    expect((await bodyOf(viaModel)).outputs[0].data).toEqual([2]);
    const viaInternal = await post('/v2/pipelines/p/infer', body([1]), {
      'seldon-internal-model': 'nope.pipeline',
      'seldon-model': 'p.pipeline',
    });
    expect(viaInternal.status).toBe(404);
  });

  it('answers errors with an OIP error body, a status and the request id', async () => {
    const unknown = await post('/v2/pipelines/nope/infer', body([1]), { 'x-request-id': 'rid-2' });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-request-id')).toBe('rid-2');
    expect((await bodyOf(unknown)).error).toBe('pipeline "nope" not found on this pipeline gateway');

    const badJson = await post('/v2/pipelines/p/infer', '{"inputs": [');
    expect(badJson.status).toBe(400);
    expect((await bodyOf(badJson)).error).toMatch(/^p\.pipeline: request body is not valid JSON/);

    const wrongMethod = await fetch(`${base}/v2/pipelines/p/infer`);
    expect(wrongMethod.status).toBe(405);
    expect((await post('/v2/other', '{}')).status).toBe(404);

    const modelError = await post('/v2/pipelines/p/infer', body([-1]));
    expect(modelError.status).toBe(400);
    expect((await bodyOf(modelError)).error).toContain('negative input');
  });

  it('hostile input is the caller’s error: a bad path segment, a bad request id, JSON nested too deep', async () => {
    const bad = await post('/v2/pipelines/%FF%FE/infer', body([1]));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/is not valid percent-encoded UTF-8/);
    const id = await post('/v2/pipelines/p/infer', body([1]), { 'x-request-id': 'with space' });
    expect(id.status).toBe(400);
    expect(id.headers.get('x-request-id')).toMatch(UUID);
    const data = `${'['.repeat(1e5)}1${']'.repeat(1e5)}`;
    const deep = await post(
      '/v2/pipelines/p/infer',
      `{"inputs":[{"name":"in","shape":[1],"datatype":"FP32","data":${data}}]}`,
    );
    expect(deep.status).toBe(400);
    expect(((await deep.json()) as { error: string }).error).toMatch(
      /nests deeper than 100 levels, the limit/,
    );
  });

  it('answers 504 when no output arrives in time', async () => {
    const started = Date.now();
    const res = await post('/v2/pipelines/ghost/infer', body([1]));
    expect(res.status).toBe(504);
    expect((await bodyOf(res)).error).toBe('pipeline "ghost": no output within 300 ms');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('reports liveness, readiness and which pipelines it serves', async () => {
    for (const path of ['/v2/health/live', '/v2/health/ready', '/ready'])
      expect((await fetch(`${base}${path}`)).status).toBe(200);
    expect((await fetch(`${base}/v2/pipelines/p/ready`)).status).toBe(200);
    expect((await fetch(`${base}/v2/pipelines/nope/ready`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
  });
});

interface GrpcReply {
  headers: http2.IncomingHttpHeaders;
  message?: Buffer;
  status: string;
  error: string;
}

function grpcCall(method: string, message: Buffer, headers: Record<string, string> = {}) {
  const client = http2.connect(`http://127.0.0.1:${servers.grpcPort}`);
  return new Promise<GrpcReply>((resolve, reject) => {
    const req = client.request({
      ':method': 'POST',
      ':path': `/inference.GRPCInferenceService/${method}`,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...headers,
    });
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      responseHeaders = h;
    });
    req.on('trailers', (t) => {
      trailers = t;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const all = { ...responseHeaders, ...trailers };
      resolve({
        headers: responseHeaders,
        message: firstMessage(Buffer.concat(chunks)),
        status: String(all['grpc-status']),
        error: decodeURIComponent(String(all['grpc-message'] ?? '')),
      });
    });
    req.on('error', reject);
    req.end(frameMessage(message));
  }).finally(() => client.close());
}

const inferMessage = (model: string, data: number[]) =>
  encodeRequest(jsonRequestToMessage({ id: 'req', inputs: [tensor('in', data)] }, model));

describe('pipeline gRPC endpoint', () => {
  it('ModelInfer runs the pipeline named in the request, keeping the request id', async () => {
    const reply = await grpcCall('ModelInfer', inferMessage('p', [3]), { 'x-request-id': 'rid-g' });
    expect(reply.status).toBe('0');
    expect(reply.headers['x-request-id']).toBe('rid-g');
    const response = messageToJsonResponse(decodeResponse(reply.message ?? Buffer.alloc(0)));
    expect(response.outputs?.[0].data).toEqual([4]);

    const anonymous = await grpcCall('ModelInfer', inferMessage('p.pipeline', [3]));
    expect(anonymous.status).toBe('0');
    expect(String(anonymous.headers['x-request-id'])).toMatch(UUID);
  });

  it('maps failures to gRPC statuses', async () => {
    const unknown = await grpcCall('ModelInfer', inferMessage('nope', [1]));
    expect([unknown.status, unknown.error]).toEqual([
      '5',
      'pipeline "nope" not found on this pipeline gateway',
    ]);
    expect((await grpcCall('ModelInfer', inferMessage('ghost', [1]))).status).toBe('4');
    expect((await grpcCall('ModelInfer', inferMessage('p', [-1]))).status).toBe('2');
    expect((await grpcCall('ModelInfer', Buffer.from([1, 2, 3]))).status).toBe('3');
    expect((await grpcCall('ModelStreamInfer', inferMessage('p', [1]))).status).toBe('12');
  });

  it('answers readiness of the server and of each pipeline', async () => {
    const ready = (name: string) =>
      grpcCall('ModelReady', encodeMessage(types.ModelReadyRequest, { name })).then((r) =>
        Boolean(
          types.ModelReadyResponse.toObject(types.ModelReadyResponse.decode(r.message ?? Buffer.alloc(0)))
            .ready,
        ),
      );
    expect(await ready('p')).toBe(true);
    expect(await ready('nope')).toBe(false);
    const server = await grpcCall('ServerReady', Buffer.alloc(0));
    expect(types.ServerReadyResponse.decode(server.message ?? Buffer.alloc(0)).toJSON()).toEqual({
      ready: true,
    });
  });
});

describe('client encodings', () => {
  it('decodes a gzip, binary-extension request and answers binary outputs, gzip-compressed', async () => {
    const header = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'in', shape: [300], datatype: 'FP64', parameters: { binary_data_size: 2400 } }],
        parameters: { binary_data_output: true },
      }),
    );
    const raw = Buffer.alloc(2400);
    for (let i = 0; i < 300; i++) raw.writeDoubleLE(i, i * 8);
    const res = await fetch(`${base}/v2/pipelines/p/infer`, {
      method: 'POST',
      headers: {
        'inference-header-content-length': String(header.length),
        'content-encoding': 'gzip',
        'accept-encoding': 'gzip',
      },
      body: gzipSync(Buffer.concat([header, raw])),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBe('gzip');
    const length = Number(res.headers.get('inference-header-content-length'));
    const answer = Buffer.from(await res.arrayBuffer());
    const json = JSON.parse(answer.subarray(0, length).toString());
    const size = json.outputs[0].parameters.binary_data_size;
    const values = decodeRaw(json.outputs[0].datatype, answer.subarray(length, length + size));
    expect(values.slice(0, 3)).toEqual([1, 2, 3]);
    expect(values).toHaveLength(300);
  });

  it('serves pipeline metadata and JSON health bodies', async () => {
    expect(await (await fetch(`${base}/v2/pipelines/p`)).json()).toMatchObject({
      name: 'p',
      versions: ['1'],
    });
    expect((await fetch(`${base}/v2/pipelines/nope`)).status).toBe(404);
    expect(await (await fetch(`${base}/v2/health/live`)).json()).toEqual({ live: true });
  });
});
