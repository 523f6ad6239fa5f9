import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../../../src/runtime/gateway/gateway.ts';
import { endpointOf, staticRouteUpdate } from '../../../src/runtime/gateway/static-routes.ts';
import { RouteTable } from '../../../src/runtime/protocol/route-table.ts';
import { fakeUpstream } from './fixtures.ts';
import { grpcClient } from './grpc-fixtures.ts';

const gzip = promisify(zlib.gzip);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const ANSWER = {
  model_name: 'iris_1',
  outputs: [{ name: 'predict', shape: [2], datatype: 'INT64', data: [1, 2] }],
};

/** A gateway over a fake replica that serves version 1 of iris as `iris_1`. */
async function setup(answer: { status?: number; body?: unknown } = { body: ANSWER }) {
  const upstream = await fakeUpstream('iris_1', () => answer);
  cleanups.push(upstream.close);
  const update = staticRouteUpdate({
    models: { iris: [{ host: '127.0.0.1', httpPort: upstream.port, grpcPort: upstream.port }] },
  });
  update.models[0].versions[0].internalName = 'iris_1';
  const routes = new RouteTable();
  routes.apply(update);
  const gw = await startGateway({ routes, host: '127.0.0.1' });
  cleanups.push(() => gw.close());
  return { upstream, url: `http://127.0.0.1:${gw.httpPort}` };
}

describe('REST gateway protocol coverage', () => {
  it('turns a binary-extension request into JSON for the replica and the answer back into binary', async () => {
    const { upstream, url } = await setup();
    const header = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'x', shape: [2], datatype: 'FP32', parameters: { binary_data_size: 8 } }],
        parameters: { binary_data_output: true },
      }),
    );
    const raw = Buffer.alloc(8);
    raw.writeFloatLE(0.5, 0);
    raw.writeFloatLE(2, 4);
    const res = await fetch(`${url}/v2/models/iris/versions/1/infer`, {
      method: 'POST',
      headers: { 'inference-header-content-length': String(header.length) },
      body: Buffer.concat([header, raw]),
    });
    expect(res.status).toBe(200);
    expect(upstream.seen[0].url).toBe('/v2/models/iris_1/infer');
    expect(JSON.parse(upstream.seen[0].body)).toEqual({
      inputs: [{ name: 'x', shape: [2], datatype: 'FP32', data: [0.5, 2] }],
    });
    const length = Number(res.headers.get('inference-header-content-length'));
    const body = Buffer.from(await res.arrayBuffer());
    const json = JSON.parse(body.subarray(0, length).toString());
    expect(json.model_name).toBe('iris');
    expect(json.outputs[0].parameters).toEqual({ binary_data_size: 16 });
    expect(body.readBigInt64LE(length + 8)).toBe(2n);
  });

  it('accepts gzip requests and compresses answers for clients that accept it', async () => {
    const answer = {
      ...ANSWER,
      outputs: [{ ...ANSWER.outputs[0], shape: [1000], data: Array(1000).fill(1) }],
    };
    const { upstream, url } = await setup({ body: answer });
    const res = await fetch(`${url}/v2/models/iris/infer`, {
      method: 'POST',
      headers: { 'content-encoding': 'gzip', 'accept-encoding': 'gzip' },
      body: await gzip(JSON.stringify({ inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] })),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(((await res.json()) as { model_name: string }).model_name).toBe('iris');
    expect(upstream.seen[0].headers['content-encoding']).toBeUndefined();
    expect(upstream.seen[0].headers['accept-encoding']).toBe('identity');
  });

  it('answers a version the route does not serve with 404, before the replica', async () => {
    const { upstream, url } = await setup();
    const res = await fetch(`${url}/v2/models/iris/versions/2/ready`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'model "iris" has no version 2 (serving 1)' });
    expect(upstream.seen).toHaveLength(0);
  });

  it("returns a replica's error as an OIP error body with its status", async () => {
    const { url } = await setup({
      status: 422,
      body: { detail: [{ loc: ['body', 'inputs'], msg: 'field required' }] },
    });
    const res = await fetch(`${url}/v2/models/iris/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] }),
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ error: 'model "iris": body.inputs: field required' });
  });

  it('answers health with the JSON body the KServe SDK reads', async () => {
    const { url } = await setup();
    expect(await (await fetch(`${url}/v2/health/live`)).json()).toEqual({ live: true });
    expect(await (await fetch(`${url}/v2/health/ready`)).json()).toEqual({ ready: true });
  });
});

describe('pipeline readiness', () => {
  it('is not ready, over REST and gRPC, until every model of the pipeline is', async () => {
    const pipelineGateway = await fakeUpstream('p');
    cleanups.push(pipelineGateway.close);
    const update = staticRouteUpdate({ pipelines: ['join', 'chain'] });
    update.pipelines[0].modelsReady = false;
    const routes = new RouteTable();
    routes.apply(update);
    const endpoint = { host: '127.0.0.1', httpPort: pipelineGateway.port, grpcPort: pipelineGateway.port };
    const gw = await startGateway({
      routes,
      host: '127.0.0.1',
      pipelineGateways: () => [endpointOf(endpoint)],
    });
    cleanups.push(() => gw.close());
    const join = await fetch(`http://127.0.0.1:${gw.httpPort}/v2/pipelines/join/ready`);
    expect(join.status).toBe(503);
    expect(((await join.json()) as { error: string }).error).toMatch(/not all of its models are available/);
    expect((await fetch(`http://127.0.0.1:${gw.httpPort}/v2/pipelines/chain/ready`)).status).toBe(200);
    const client = grpcClient(gw.grpcPort);
    cleanups.push(client.close);
    const { res } = await client.call<{ ready: boolean }>(
      'ModelReady',
      { name: 'join' },
      { 'seldon-model': 'join.pipeline' },
    );
    expect(res.ready).toBe(false);
  });
});
