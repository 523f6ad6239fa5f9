import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KafkaBus } from '../../src/runtime/bus/kafka-bus.ts';
import { PipelineEngine } from '../../src/runtime/dataflow/engine.ts';
import { GrpcModelClient } from '../../src/runtime/dataflow/model-client.ts';
import { ModelGateway } from '../../src/runtime/dataflow/model-gateway.ts';
import { PipelineGateway } from '../../src/runtime/dataflow/pipeline-gateway.ts';
import { startPipelineServers } from '../../src/runtime/dataflow/pipeline-server.ts';
import { planPipeline } from '../../src/runtime/dataflow/plan.ts';
import { type RunningGateway, startGateway } from '../../src/runtime/gateway/gateway.ts';
import { endpointOf, type StaticRoutes } from '../../src/runtime/gateway/static-routes.ts';
import { checkInferRequest } from '../../src/runtime/oip/validate.ts';
import { componentArgv } from '../../src/spec/flags.ts';
import { DEFAULT_NAMING } from '../../src/spec/topics.ts';
import { table } from '../runtime/gateway/fixtures.ts';
import { grpcClient } from '../runtime/gateway/grpc-fixtures.ts';
import {
  freePort,
  type KafkaBroker,
  type ManagedProcess,
  type MlserverInstance,
  repoRoot,
  startKafka,
  startMlserver,
  startProcess,
  trainIrisModel,
  waitUntilReady,
} from './harness/index.ts';
import { describeE2E } from './harness/toolchain.ts';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
// One flower of each species: setosa, versicolor, virginica.
const flowers = [5.1, 3.5, 1.4, 0.2, 6.4, 3.2, 4.5, 1.5, 6.3, 3.3, 6.0, 2.5];
const irisRequest = { inputs: [{ name: 'predict', shape: [3, 4], datatype: 'FP64', data: flowers }] };

describeE2E('data plane with real MLServer and Kafka', ['python3', 'java'], () => {
  let parent: string;
  let mlserver: MlserverInstance;
  let kafka: KafkaBroker;
  const closers: (() => Promise<void> | void)[] = [];
  let routes: StaticRoutes;

  beforeAll(async () => {
    parent = mkdtempSync(join(tmpdir(), 'mlops-e2e-dataplane-'));
    for (const name of ['iris', 'iris2', 'shadow']) await trainIrisModel(parent, name);
    [mlserver, kafka] = await Promise.all([startMlserver({ modelsDir: parent }), startKafka()]);
    for (const name of ['iris', 'iris2', 'shadow']) {
      const res = await fetch(`${mlserver.httpUrl}/v2/repository/models/${name}/load`, { method: 'POST' });
      expect(res.status).toBe(200);
    }
    const [host, grpcPort] = mlserver.grpcAddress.split(':');
    const endpoint = { host, httpPort: Number(new URL(mlserver.httpUrl).port), grpcPort: Number(grpcPort) };
    routes = { models: { iris: [endpoint], iris2: [endpoint], shadow: [endpoint] } };
  }, 300_000);

  afterAll(async () => {
    for (const c of closers.reverse()) await c();
    await mlserver?.stop();
    await kafka?.stop();
    if (parent) rmSync(parent, { recursive: true, force: true });
  });

  async function gateway(
    extra: Partial<StaticRoutes>,
    pipelineGateways: StaticRoutes['pipelineGateways'] = [],
  ) {
    const gw = await startGateway({
      routes: table({ ...routes, ...extra }),
      host: '127.0.0.1',
      logger,
      pipelineGateways: () => (pipelineGateways ?? []).map(endpointOf),
    });
    closers.push(() => gw.close());
    return gw;
  }

  const post = (
    gw: RunningGateway | number,
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
  ) =>
    fetch(`http://127.0.0.1:${typeof gw === 'number' ? gw : gw.httpPort}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('serves the quickstart model through the gateway over REST and gRPC', async () => {
    const gw = await gateway({});
    const res = await post(gw, '/v2/models/iris/infer', irisRequest, { 'x-request-id': 'quick-1' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('quick-1');
    expect(res.headers.get('x-seldon-route')).toBe(':iris_1:');
    const body = (await res.json()) as { model_name: string; outputs: { data: number[] }[] };
    expect(body.model_name).toBe('iris');
    expect(body.outputs[0].data).toEqual([0, 1, 2]);

    const ready = await fetch(`http://127.0.0.1:${gw.httpPort}/v2/models/iris/ready`);
    expect(ready.status).toBe(200);
    const meta = (await (await fetch(`http://127.0.0.1:${gw.httpPort}/v2/models/iris`)).json()) as {
      name: string;
    };
    expect(meta.name).toBe('iris');

    const client = grpcClient(gw.grpcPort);
    closers.push(client.close);
    const { res: grpcRes } = await client.call<{
      model_name: string;
      outputs: { contents: { int64_contents: number[] } }[];
    }>('ModelInfer', {
      model_name: 'iris',
      inputs: [{ name: 'predict', datatype: 'FP64', shape: [3, 4], contents: { fp64_contents: flowers } }],
    });
    expect(grpcRes.model_name).toBe('iris');
    expect(grpcRes.outputs[0].contents.int64_contents).toEqual([0, 1, 2]);
  }, 60_000);

  it('splits an A/B experiment, keeps sessions sticky and mirrors without affecting callers', async () => {
    const gw = await gateway({
      experiments: [
        {
          name: 'ab',
          default: 'iris',
          candidates: [
            { name: 'iris', weight: 50 },
            { name: 'iris2', weight: 50 },
          ],
          mirror: { name: 'shadow', percent: 100 },
        },
      ],
    });
    const answered: Record<string, number> = {};
    let route = '';
    for (let i = 0; i < 60; i++) {
      const res = await post(gw, '/v2/models/iris/infer', irisRequest);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { model_name: string; outputs: { data: number[] }[] };
      expect(body.outputs[0].data).toEqual([0, 1, 2]);
      answered[body.model_name] = (answered[body.model_name] ?? 0) + 1;
      route = res.headers.get('x-seldon-route') ?? '';
    }
    expect(Object.keys(answered).sort()).toEqual(['iris', 'iris2']);
    expect(answered.iris).toBeGreaterThan(10);
    expect(answered.iris2).toBeGreaterThan(10);
    const sticky = route.includes(':iris2_') ? 'iris2' : 'iris';
    for (let i = 0; i < 10; i++) {
      const res = await post(gw, '/v2/models/iris/infer', irisRequest, { 'x-seldon-route': route });
      expect(((await res.json()) as { model_name: string }).model_name).toBe(sticky);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/mlops_gateway_mirrored_total\{outcome="sent"\} 70/);
  }, 60_000);

  it('answers a join/trigger pipeline synchronously through the gateway (REST and gRPC)', async () => {
    const bus = new KafkaBus({ brokers: kafka.brokers, logger, instanceId: 'mlserver-e2e' });
    closers.push(() => bus.close());
    const spec = {
      steps: [{ name: 'iris' }, { name: 'iris2', triggers: ['iris.outputs.predict'] }],
      output: { steps: ['iris', 'iris2'] },
    };
    const engine = new PipelineEngine(planPipeline('jt', spec, DEFAULT_NAMING), bus, DEFAULT_NAMING, logger);
    await engine.start();
    closers.push(() => engine.stop());
    // The model gateway calls models through the data-plane gateway, as in a cluster.
    const modelsGw = await gateway({});
    const client = new GrpcModelClient([
      endpointOf({ host: '127.0.0.1', httpPort: 0, grpcPort: modelsGw.grpcPort }),
    ]);
    const modelGateway = new ModelGateway(bus, DEFAULT_NAMING, ['iris', 'iris2'], client, logger);
    await modelGateway.start();
    closers.push(async () => {
      await modelGateway.stop();
      client.close();
    });
    const pipelineGateway = new PipelineGateway(bus, DEFAULT_NAMING, ['jt'], logger, 60_000);
    await pipelineGateway.start();
    const servers = await startPipelineServers(pipelineGateway, logger, { host: '127.0.0.1' });
    closers.push(async () => {
      await servers.close();
      await pipelineGateway.stop();
    });
    const gw = await gateway({ pipelines: ['jt'] }, [
      { host: '127.0.0.1', httpPort: servers.httpPort, grpcPort: servers.grpcPort },
    ]);

    const res = await post(gw, '/v2/pipelines/jt/infer', irisRequest, {
      'x-request-id': 'pipe-1',
      'x-team': 'a',
    });
    const body = (await res.json()) as { outputs: { name: string; data: number[] }[] };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('pipe-1');
    expect(res.headers.get('x-team')).toBe('a');
    expect(res.headers.get('x-seldon-route')).toBe(':jt.pipeline:');
    expect(body.outputs.map((o) => [o.name, o.data])).toEqual([
      ['predict', [0, 1, 2]],
      ['predict', [0, 1, 2]],
    ]);

    const grpc = grpcClient(gw.grpcPort);
    closers.push(grpc.close);
    const { res: grpcRes } = await grpc.call<{ outputs: { name: string }[] }>(
      'ModelInfer',
      {
        model_name: 'jt',
        inputs: [{ name: 'predict', datatype: 'FP64', shape: [3, 4], contents: { fp64_contents: flowers } }],
      },
      { 'seldon-model': 'jt.pipeline' },
    );
    expect(grpcRes.outputs).toHaveLength(2);

    // A model error comes back to the caller as an OIP error.
    const bad = await post(gw, '/v2/pipelines/jt/infer', {
      inputs: [{ name: 'predict', shape: [1, 2], datatype: 'FP64', data: [1, 2] }],
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^iris: model iris failed/);
  }, 180_000);

  it('stays healthy through 10,000 malformed requests', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-e2e-fuzz-'));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    const routesFile = join(dir, 'routes.json');
    writeFileSync(routesFile, JSON.stringify(routes));
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    const proc: ManagedProcess = startProcess(
      'gateway',
      process.execPath,
      [
        join(repoRoot, 'bin/mlops-runtime.js'),
        ...componentArgv('gateway', {
          routes: routesFile,
          'http-port': httpPort,
          'grpc-port': grpcPort,
          'log-level': 'warn',
        }),
      ],
      { logFile: join(dir, 'gateway.log') },
    );
    closers.push(() => proc.stop(5000));
    await waitUntilReady(
      proc,
      'gateway',
      async () => (await fetch(`http://127.0.0.1:${httpPort}/v2/health/live`)).ok,
      30_000,
    );

    const tensor = fc.record(
      {
        name: fc.oneof(fc.string(), fc.constant('predict'), fc.integer()),
        shape: fc.oneof(
          fc.array(fc.integer({ min: -2, max: 5 }), { maxLength: 3 }),
          fc.string(),
          fc.constant([1, 4]),
        ),
        datatype: fc.oneof(
          fc.constantFrom('FP64', 'FP32', 'INT8', 'BYTES', 'BOOL', 'UINT64', 'fp32'),
          fc.string(),
        ),
        data: fc.oneof(fc.array(fc.jsonValue(), { maxLength: 6 }), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      fc.string(),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc
        .record(
          { inputs: fc.array(tensor, { maxLength: 3 }), id: fc.oneof(fc.string(), fc.integer()) },
          { requiredKeys: ['inputs'] },
        )
        .map((v) => JSON.stringify(v)),
      fc.constant('{"inputs": [{"name": "predict", "shape": [1, 4], "datatype": "FP64", "data": [1, 2, 3'),
    );
    const cases = fc.sample(body, { numRuns: 10_000, seed: 2024 });
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const text = cases[next++];
        const res = await post(httpPort, '/v2/models/iris/infer', text);
        const json = (await res.json().catch(() => undefined)) as { error?: string } | undefined;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        let valid = false;
        try {
          valid = checkInferRequest(JSON.parse(text)).length === 0;
        } catch {}
        // Whatever the gateway rejects, it rejects with a 400 and an OIP error body.
        if (!valid) {
          expect(res.status, text).toBe(400);
          expect(typeof json?.error, text).toBe('string');
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(proc.isRunning()).toBe(true);
    const after = await post(httpPort, '/v2/models/iris/infer', irisRequest);
    expect(after.status).toBe(200);
  }, 300_000);
});
