import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../../../src/runtime/gateway/gateway.ts';
import { closedPort, fakeUpstream, IRIS_REQUEST, seeded, table } from './fixtures.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function post(port: number, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected field by field
  const json: any = await res.json().catch(() => undefined);
  return { status: res.status, headers: res.headers, body: json };
}

async function setup(routes: Parameters<typeof table>[0], random?: () => number) {
  const gw = await startGateway({ routes: table(routes), host: '127.0.0.1', random });
  cleanups.push(() => gw.close());
  return gw;
}

async function upstream(name: string, answer?: Parameters<typeof fakeUpstream>[1]) {
  const u = await fakeUpstream(name, answer);
  cleanups.push(() => u.close());
  return u;
}

const ep = (port: number) => ({ host: '127.0.0.1', httpPort: port, grpcPort: port });

describe('REST gateway', () => {
  it('routes by path and by seldon-model header, with route and request id headers', async () => {
    const a = await upstream('a');
    const b = await upstream('b');
    const gw = await setup({ models: { a: [ep(a.port)], b: [ep(b.port)] } });
    const byPath = await post(gw.httpPort, '/v2/models/a/infer', IRIS_REQUEST, { 'x-request-id': 'req-1' });
    expect(byPath.status).toBe(200);
    expect(byPath.body.model_name).toBe('a');
    expect(byPath.headers.get('x-request-id')).toBe('req-1');
    expect(byPath.headers.get('x-seldon-route')).toBe(':a_1:');
    expect(a.seen[0].headers['x-request-id']).toBe('req-1');
    expect(a.seen[0].headers['seldon-internal-model']).toBe('a');

    const byHeader = await post(gw.httpPort, '/v2/models/a/infer', IRIS_REQUEST, { 'seldon-model': 'b' });
    expect(byHeader.body.model_name).toBe('b');
    expect(b.seen[0].url).toBe('/v2/models/b/infer');
    const created = byHeader.headers.get('x-request-id');
    expect(created).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.seen[0].headers['x-request-id']).toBe(created);
  });

  it('answers bad requests with an OIP error body and a 4xx, never reaching the model', async () => {
    const a = await upstream('a');
    const gw = await setup({ models: { a: [ep(a.port)] } });
    const cases: [string, unknown, number, RegExp][] = [
      ['/v2/models/a/infer', '{"inputs": [', 400, /not valid JSON/],
      ['/v2/models/a/infer', { inputs: [] }, 400, /inputs must be a non-empty array/],
      [
        '/v2/models/a/infer',
        { inputs: [{ name: 'x', shape: [2], datatype: 'FP32', data: [1] }] },
        400,
        /holds 2 elements but data has 1/,
      ],
      [
        '/v2/models/a/infer',
        { inputs: [{ name: 'x', shape: [1], datatype: 'FLOAT', data: [1] }] },
        400,
        /datatype must be one of/,
      ],
      [
        '/v2/models/a/infer',
        { inputs: [{ name: 'x', shape: [1], datatype: 'INT8', data: [300] }] },
        400,
        /not a valid INT8/,
      ],
      ['/v2/models/zzz/infer', IRIS_REQUEST, 404, /model "zzz" not found/],
      ['/v2/nothing', IRIS_REQUEST, 404, /no OIP endpoint/],
    ];
    for (const [path, body, status, message] of cases) {
      const res = await post(gw.httpPort, path, body);
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(status);
      expect(res.body.error).toMatch(message);
    }
    expect(a.seen).toHaveLength(0);
    const health = await fetch(`http://127.0.0.1:${gw.httpPort}/v2/health/live`);
    expect(health.status).toBe(200);
  });

  it('refuses bodies over the size limit with a 413 and keeps serving', async () => {
    const a = await upstream('a');
    const gw = await startGateway({
      routes: table({ models: { a: [ep(a.port)] } }),
      host: '127.0.0.1',
      maxBodyBytes: 1000,
    });
    cleanups.push(() => gw.close());
    const big = { inputs: [{ name: 'x', shape: [500], datatype: 'FP32', data: new Array(500).fill(1.5) }] };
    const res = await post(gw.httpPort, '/v2/models/a/infer', big);
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('request body exceeds 1000 bytes; send smaller batches');
    expect((await post(gw.httpPort, '/v2/models/a/infer', IRIS_REQUEST)).status).toBe(200);
    expect(a.seen).toHaveLength(1);
  });

  it('retries another replica on connect failure only', async () => {
    const dead = await closedPort();
    const ok = await upstream('ok');
    const gw = await setup({ models: { m: [ep(dead), ep(ok.port)] } });
    for (let i = 0; i < 6; i++) {
      const res = await post(gw.httpPort, '/v2/models/m/infer', IRIS_REQUEST);
      expect(res.status).toBe(200);
    }
    expect(ok.seen).toHaveLength(6);

    // A 500 from a replica is the model's answer: passed back, not retried elsewhere.
    const failing = await upstream('failing', () => ({ status: 500, body: { error: 'boom' } }));
    const other = await upstream('other');
    const gw2 = await setup({ models: { m: [ep(failing.port), ep(other.port)] } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await post(gw2.httpPort, '/v2/models/m/infer', IRIS_REQUEST)).status);
    expect(failing.seen.length + other.seen.length).toBe(4);
    expect(statuses.filter((s) => s === 500)).toHaveLength(failing.seen.length);
  });

  it('answers 503 naming the replicas when none is reachable', async () => {
    const dead = await closedPort();
    const gw = await setup({ models: { m: [ep(dead)] } });
    const res = await post(gw.httpPort, '/v2/models/m/infer', IRIS_REQUEST);
    expect(res.status).toBe(503);
    expect(res.body.error).toContain(`127.0.0.1:${dead}`);
  });

  it('balances by least outstanding requests', async () => {
    const slow = await upstream('slow', () => ({ delayMs: 300 }));
    const fast = await upstream('fast');
    const gw = await setup({ models: { m: [ep(slow.port), ep(fast.port)] } });
    // While one request is stuck on the slow replica, the next ones go to the idle one.
    const pending = post(gw.httpPort, '/v2/models/m/infer', IRIS_REQUEST);
    await new Promise((r) => setTimeout(r, 50));
    const first = slow.seen.length === 1 ? 'slow' : 'fast';
    for (let i = 0; i < 5; i++) await post(gw.httpPort, '/v2/models/m/infer', IRIS_REQUEST);
    await pending;
    if (first === 'slow') expect(fast.seen).toHaveLength(5);
    expect(slow.seen.length + fast.seen.length).toBe(6);
  });

  it('runs an A/B experiment with stickiness and a mirror that never affects the caller', async () => {
    const a = await upstream('a');
    const b = await upstream('b');
    const shadow = await upstream('shadow', () => ({
      status: 500,
      delayMs: 20,
      body: { error: 'shadow broke' },
    }));
    const gw = await setup(
      {
        models: { a: [ep(a.port)], b: [ep(b.port)], shadow: [ep(shadow.port)] },
        experiments: [
          {
            name: 'ab',
            default: 'a',
            candidates: [
              { name: 'a', weight: 50 },
              { name: 'b', weight: 50 },
            ],
            mirror: { name: 'shadow', percent: 100 },
          },
        ],
      },
      seeded(5),
    );
    const seen = new Set<string>();
    let route = '';
    for (let i = 0; i < 20; i++) {
      const res = await post(gw.httpPort, '/v2/models/a/infer', IRIS_REQUEST);
      expect(res.status).toBe(200);
      seen.add(res.body.model_name);
      route = res.headers.get('x-seldon-route') ?? '';
    }
    expect(seen).toEqual(new Set(['a', 'b']));
    const sticky = route.includes(':b_') ? 'b' : 'a';
    for (let i = 0; i < 10; i++) {
      const res = await post(gw.httpPort, '/v2/models/a/infer', IRIS_REQUEST, { 'x-seldon-route': route });
      expect(res.body.model_name).toBe(sticky);
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(shadow.seen.length).toBe(30);
    expect(shadow.seen[0].url).toBe('/v2/models/shadow/infer');
    const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/mlops_gateway_mirrored_total\{outcome="sent"\} 30/);
  });

  it('forwards pipeline calls to the pipeline gateway with the pipeline key', async () => {
    const pgw = await upstream('pgw', () => ({ body: { model_name: 'p1', outputs: [] } }));
    const gw = await startGateway({
      routes: table({ pipelines: ['p1'] }),
      host: '127.0.0.1',
      pipelineGateways: () => [{ serverName: 'pgw', replicaIdx: 0, ...ep(pgw.port) }],
    });
    cleanups.push(() => gw.close());
    const res = await post(gw.httpPort, '/v2/pipelines/p1/infer', IRIS_REQUEST);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-seldon-route')).toBe(':p1.pipeline:');
    expect(pgw.seen[0].headers['seldon-model']).toBe('p1.pipeline');
    const viaHeader = await post(gw.httpPort, '/v2/models/whatever/infer', IRIS_REQUEST, {
      'seldon-model': 'p1.pipeline',
    });
    expect(viaHeader.status).toBe(200);
    expect(pgw.seen[1].url).toBe('/v2/pipelines/p1/infer');
  });

  it('a pipeline is ready only when the route table says its models are', async () => {
    const pgw = await upstream('pgw', () => ({ body: {} }));
    const routes = table({ pipelines: ['p1'] });
    const gw = await startGateway({
      routes,
      host: '127.0.0.1',
      pipelineGateways: () => [{ serverName: 'pgw', replicaIdx: 0, ...ep(pgw.port) }],
    });
    cleanups.push(() => gw.close());
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
    setModelsReady(false);
    const notReady = await fetch(`http://127.0.0.1:${gw.httpPort}/v2/pipelines/p1/ready`);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toContain(
      'pipeline \\"p1\\" is not ready: not all of its models are available',
    );
    expect(pgw.seen).toHaveLength(0);
    setModelsReady(true);
    const ready = await fetch(`http://127.0.0.1:${gw.httpPort}/v2/pipelines/p1/ready`);
    expect(ready.status).toBe(200);
    expect(pgw.seen.map((r) => r.url)).toEqual(['/v2/pipelines/p1/ready']);
  });
});
