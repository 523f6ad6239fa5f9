import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../../../src/runtime/gateway/gateway.ts';
import { closedPort, seeded, table } from './fixtures.ts';
import { fakeGrpcModel, grpcClient } from './grpc-fixtures.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const ep = (port: number) => ({ host: '127.0.0.1', httpPort: port, grpcPort: port });
const request = (model: string, id = 'r1') => ({
  model_name: model,
  id,
  inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], contents: { fp32_contents: [1, 2] } }],
});

async function model(name: string) {
  const m = await fakeGrpcModel(name);
  cleanups.push(m.close);
  return m;
}

describe('gRPC gateway', () => {
  it('answers server health locally and forwards model calls untouched', async () => {
    const iris = await model('iris');
    const gw = await startGateway({
      routes: table({ models: { iris: [ep(iris.port)] } }),
      host: '127.0.0.1',
    });
    cleanups.push(() => gw.close());
    const client = grpcClient(gw.grpcPort);
    cleanups.push(client.close);

    expect((await client.call<{ live: boolean }>('ServerLive', {})).res.live).toBe(true);
    expect((await client.call<{ name: string }>('ServerMetadata', {})).res.name).toBe('mlops-gateway');

    const { res, headers } = await client.call<{
      model_name: string;
      outputs: { contents: { int64_contents: number[] } }[];
    }>('ModelInfer', request('iris'), { 'x-request-id': 'abc' });
    expect(res.model_name).toBe('iris');
    expect(res.outputs[0].contents.int64_contents).toEqual([7]);
    expect(headers.get('x-seldon-route')).toEqual([':iris_1:']);
    expect(headers.get('x-request-id')).toEqual(['abc']);
    expect(iris.seen[0].metadata.get('seldon-internal-model')).toEqual(['iris']);
    expect(iris.seen[0].request.inputs[0].contents.fp32_contents).toEqual([1, 2]);
    expect((await client.call<{ ready: boolean }>('ModelReady', { name: 'iris' })).res.ready).toBe(true);
  });

  it('answers ModelReady of a pipeline from the route table while its models are not ready', async () => {
    const pgw = await model('p1');
    const routes = table({ pipelines: ['p1'] });
    const gw = await startGateway({
      routes,
      host: '127.0.0.1',
      pipelineGateways: () => [{ serverName: 'pgw', replicaIdx: 0, ...ep(pgw.port) }],
    });
    cleanups.push(() => gw.close());
    const client = grpcClient(gw.grpcPort);
    cleanups.push(client.close);
    const setModelsReady = (modelsReady: boolean) =>
      routes.apply({
        revision: 0,
        full: false,
        models: [],
        removedModels: [],
        experiments: [],
        removedExperiments: [],
        pipelines: [{ name: 'p1', namespace: 'default', version: 1, modelsReady }],
        removedPipelines: [],
      });
    const ready = async () =>
      (await client.call<{ ready: boolean }>('ModelReady', { name: 'p1' }, { 'seldon-model': 'p1.pipeline' }))
        .res.ready;
    setModelsReady(false);
    expect(await ready()).toBe(false);
    setModelsReady(true);
    expect(await ready()).toBe(true);
  });

  it('passes model errors through and reports routing errors as gRPC statuses', async () => {
    const iris = await model('iris');
    const dead = await closedPort();
    const gw = await startGateway({
      routes: table({ models: { iris: [ep(iris.port)], gone: [ep(dead)] } }),
      host: '127.0.0.1',
    });
    cleanups.push(() => gw.close());
    const client = grpcClient(gw.grpcPort);
    cleanups.push(client.close);
    await expect(client.call('ModelInfer', request('iris', 'fail'))).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: 'iris refused',
    });
    await expect(client.call('ModelInfer', request('nope'))).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
      details: expect.stringContaining('"nope"'),
    });
    await expect(client.call('ModelInfer', request('gone'))).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
    await expect(client.call('RepositoryIndex', {})).rejects.toMatchObject({
      code: grpc.status.UNIMPLEMENTED,
    });
  });

  it('moves a call to another replica when the connection fails', async () => {
    const live = await model('m');
    const dead = await closedPort();
    const gw = await startGateway({
      routes: table({ models: { m: [ep(dead), ep(live.port)] } }),
      host: '127.0.0.1',
    });
    cleanups.push(() => gw.close());
    const client = grpcClient(gw.grpcPort);
    cleanups.push(client.close);
    for (let i = 0; i < 5; i++) {
      expect((await client.call<{ model_name: string }>('ModelInfer', request('m'))).res.model_name).toBe(
        'm',
      );
    }
    expect(live.seen).toHaveLength(5);
  });

  it('splits an experiment, rewriting the model name for the chosen candidate, and mirrors', async () => {
    const a = await model('a');
    const b = await model('b');
    const shadow = await model('shadow');
    const gw = await startGateway({
      routes: table({
        models: { a: [ep(a.port)], b: [ep(b.port)], shadow: [ep(shadow.port)] },
        experiments: [
          {
            name: 'ab',
            candidates: [
              { name: 'a', weight: 1 },
              { name: 'b', weight: 1 },
            ],
            mirror: { name: 'shadow', percent: 100 },
          },
        ],
      }),
      host: '127.0.0.1',
      random: seeded(11),
    });
    cleanups.push(() => gw.close());
    const client = grpcClient(gw.grpcPort);
    cleanups.push(client.close);
    const answered = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const { res } = await client.call<{ model_name: string }>('ModelInfer', request('whatever'), {
        'seldon-model': 'ab.experiment',
      });
      answered.add(res.model_name);
    }
    expect(answered).toEqual(new Set(['a', 'b']));
    for (const s of [...a.seen, ...b.seen]) expect(['a', 'b']).toContain(s.request.model_name);
    expect(a.seen.every((s) => s.request.model_name === 'a')).toBe(true);
    const sticky = await client.call<{ model_name: string }>('ModelInfer', request('x'), {
      'seldon-model': 'ab.experiment',
      'x-seldon-route': ':b_1:',
    });
    expect(sticky.res.model_name).toBe('b');
    await new Promise((r) => setTimeout(r, 100));
    expect(shadow.seen).toHaveLength(21);
    expect(shadow.seen[0].request.model_name).toBe('shadow');
  });

  it('creates a request id when the caller sends none, refuses oversized calls and counts every call', async () => {
    const iris = await model('iris');
    const gw = await startGateway({
      routes: table({ models: { iris: [ep(iris.port)] } }),
      host: '127.0.0.1',
      maxBodyBytes: 200,
    });
    cleanups.push(() => gw.close());
    const client = grpcClient(gw.grpcPort);
    cleanups.push(client.close);
    const { headers } = await client.call('ModelInfer', request('iris'));
    const created = headers.get('x-request-id')[0];
    expect(created).toMatch(/^[0-9a-f-]{36}$/);
    expect(iris.seen[0].metadata.get('x-request-id')).toEqual([created]);
    const big = {
      ...request('iris'),
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [1, 100], contents: { fp32_contents: Array(100).fill(1) } },
      ],
    };
    await expect(client.call('ModelInfer', big)).rejects.toMatchObject({
      code: grpc.status.RESOURCE_EXHAUSTED,
      details: 'message exceeds 200 bytes',
    });
    await expect(client.call('ModelInfer', request('nope'))).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
    });
    expect(iris.seen).toHaveLength(1);
    const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/mlops_gateway_requests_total\{protocol="grpc",kind="model",code="0"\} 1\n/);
    expect(metrics).toMatch(/mlops_gateway_requests_total\{protocol="grpc",kind="local",code="8"\} 1\n/);
    expect(metrics).toMatch(/mlops_gateway_requests_total\{protocol="grpc",kind="local",code="5"\} 1\n/);
    expect(metrics).toMatch(/mlops_gateway_request_seconds_count\{protocol="grpc",kind="model"\} 1\n/);
  });
});
