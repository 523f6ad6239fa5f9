import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaBus } from '../../src/runtime/bus/kafka-bus.ts';
import { PipelineEngine } from '../../src/runtime/dataflow/engine.ts';
import { GrpcModelClient } from '../../src/runtime/dataflow/model-client.ts';
import { ModelGateway } from '../../src/runtime/dataflow/model-gateway.ts';
import { PipelineGateway } from '../../src/runtime/dataflow/pipeline-gateway.ts';
import { startPipelineServers } from '../../src/runtime/dataflow/pipeline-server.ts';
import { planPipeline } from '../../src/runtime/dataflow/plan.ts';
import { type RunningGateway, startGateway } from '../../src/runtime/gateway/gateway.ts';
import {
  endpointOf,
  type StaticEndpoint,
  staticRouteUpdate,
} from '../../src/runtime/gateway/static-routes.ts';
import { RouteTable } from '../../src/runtime/protocol/route-table.ts';
import { DEFAULT_NAMING } from '../../src/spec/topics.ts';
import {
  type KafkaBroker,
  type MlserverInstance,
  startKafka,
  startMlserver,
  trainIrisModel,
} from './harness/index.ts';
import { type CaseResult, grpcurl, runClientCases } from './harness/oip-clients.ts';
import { describeE2E } from './harness/toolchain.ts';

/**
 * Every Open Inference Protocol client a Seldon user reaches for — tritonclient (HTTP, gRPC), the
 * KServe SDK (REST, gRPC) and grpcurl — with its default settings, against three targets: a
 * model through the gateway, the same model straight on MLServer, and a pipeline through the
 * gateway over Kafka. Where MLServer itself fails a case, the test name says so.
 */
const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const PREDICTED = [0, 1, 2];
const flowers = [5.1, 3.5, 1.4, 0.2, 6.4, 3.2, 4.5, 1.5, 6.3, 3.3, 6.0, 2.5];

describeE2E(
  'OIP clients through the gateway, on MLServer and through a pipeline',
  ['python3', 'java', 'go'],
  () => {
    let parent: string;
    let mlserver: MlserverInstance;
    let kafka: KafkaBroker;
    let gw: RunningGateway;
    const closers: (() => Promise<void> | void)[] = [];
    const triton: Record<'gateway' | 'mlserver' | 'pipeline', Record<string, CaseResult>> = {
      gateway: {},
      mlserver: {},
      pipeline: {},
    };
    const kserve: typeof triton = { gateway: {}, mlserver: {}, pipeline: {} };
    let mlserverGrpc: string;
    let gatewayGrpc: string;

    beforeAll(async () => {
      parent = mkdtempSync(join(tmpdir(), 'mlops-e2e-oip-'));
      // Served under the internal names a replica uses (`<model>_<version>`), version "1"; iris2 is
      // a copy of iris under another name (training once keeps the suite short).
      const folder = await trainIrisModel(parent, 'iris_1');
      for (const name of ['iris_1', 'iris2_1']) {
        if (name !== 'iris_1') cpSync(folder, join(parent, name), { recursive: true });
        const file = join(parent, name, 'model-settings.json');
        const settings = JSON.parse(readFileSync(file, 'utf8'));
        writeFileSync(
          file,
          JSON.stringify({ ...settings, name, parameters: { ...settings.parameters, version: '1' } }),
        );
      }
      [mlserver, kafka] = await Promise.all([startMlserver({ modelsDir: parent }), startKafka()]);
      for (const name of ['iris_1', 'iris2_1']) {
        const res = await fetch(`${mlserver.httpUrl}/v2/repository/models/${name}/load`, { method: 'POST' });
        expect(res.status).toBe(200);
      }
      const [host, grpcPort] = mlserver.grpcAddress.split(':');
      const endpoint: StaticEndpoint = {
        host,
        httpPort: Number(new URL(mlserver.httpUrl).port),
        grpcPort: Number(grpcPort),
      };
      mlserverGrpc = mlserver.grpcAddress;

      const bus = new KafkaBus({ brokers: kafka.brokers, logger, instanceId: 'oip-clients-e2e' });
      closers.push(() => bus.close());
      const engine = new PipelineEngine(
        planPipeline('chain', { steps: [{ name: 'iris' }], output: { steps: ['iris'] } }, DEFAULT_NAMING),
        bus,
        DEFAULT_NAMING,
        logger,
      );
      await engine.start();
      closers.push(() => engine.stop());
      const pipelineGateway = new PipelineGateway(bus, DEFAULT_NAMING, ['chain'], logger, 60_000);
      await pipelineGateway.start();
      const servers = await startPipelineServers(pipelineGateway, logger, { host: '127.0.0.1' });
      closers.push(async () => {
        await servers.close();
        await pipelineGateway.stop();
      });

      const update = staticRouteUpdate({
        models: { iris: [endpoint], iris2: [endpoint] },
        experiments: [
          {
            name: 'ab',
            candidates: [
              { name: 'iris', weight: 50 },
              { name: 'iris2', weight: 50 },
            ],
          },
        ],
        pipelines: ['chain'],
      });
      for (const m of update.models) m.versions[0].internalName = `${m.name}_1`;
      const routes = new RouteTable();
      routes.apply(update);
      gw = await startGateway({
        routes,
        host: '127.0.0.1',
        logger,
        pipelineGateways: () => [
          endpointOf({ host: '127.0.0.1', httpPort: servers.httpPort, grpcPort: servers.grpcPort }),
        ],
      });
      closers.push(() => gw.close());
      gatewayGrpc = `127.0.0.1:${gw.grpcPort}`;
      // The pipeline's step calls its model through the gateway, as in a cluster.
      const client = new GrpcModelClient([
        endpointOf({ host: '127.0.0.1', httpPort: 0, grpcPort: gw.grpcPort }),
      ]);
      const modelGateway = new ModelGateway(bus, DEFAULT_NAMING, ['iris'], client, logger);
      await modelGateway.start();
      closers.push(async () => {
        await modelGateway.stop();
        client.close();
      });

      const viaGateway = { http: `127.0.0.1:${gw.httpPort}`, grpc: gatewayGrpc, model: 'iris', version: '1' };
      const onMlserver = {
        http: new URL(mlserver.httpUrl).host,
        grpc: mlserver.grpcAddress,
        model: 'iris_1',
        version: '1',
      };
      const pipeline = { ...viaGateway, model: 'chain', headers: { 'seldon-model': 'chain.pipeline' } };
      // One process per runner and target; the client runs are independent of each other.
      [triton.gateway, triton.mlserver, triton.pipeline, kserve.gateway, kserve.mlserver, kserve.pipeline] =
        await Promise.all([
          runClientCases('triton', viaGateway),
          runClientCases('triton', onMlserver),
          runClientCases('triton', pipeline),
          runClientCases('kserve', viaGateway),
          runClientCases('kserve', onMlserver),
          runClientCases('kserve', pipeline),
        ]);
    }, 300_000);

    afterAll(async () => {
      for (const c of closers.reverse()) await c();
      await mlserver?.stop();
      await kafka?.stop();
      if (parent) rmSync(parent, { recursive: true, force: true });
    });

    const answered = (r: CaseResult | undefined, name: string) => {
      expect(r, JSON.stringify(r)).toMatchObject({ ok: true });
      expect(r?.value).toEqual({ model_name: name, predict: PREDICTED });
    };
    const isTrue = (r: CaseResult | undefined, where: string) =>
      expect(r, `${where}: ${JSON.stringify(r)}`).toMatchObject({ ok: true, value: true });

    describe('tritonclient HTTP', () => {
      it.each(['http live', 'http ready', 'http model ready', 'http model ready, versioned'])(
        '%s: true through the gateway, on MLServer and for a pipeline',
        (name) => {
          isTrue(triton.gateway[name], 'gateway');
          isTrue(triton.mlserver[name], 'MLServer');
          isTrue(triton.pipeline[name], 'pipeline');
        },
      );

      it('model metadata names the model as the client did', () => {
        expect(triton.gateway['http model metadata']).toMatchObject({ ok: true, value: 'iris' });
        expect(triton.mlserver['http model metadata']).toMatchObject({ ok: true, value: 'iris_1' });
        expect(triton.pipeline['http model metadata']).toMatchObject({ ok: true, value: 'chain' });
      });

      it.each(['http infer, binary', 'http infer, gzip both ways', 'http infer, deflate both ways'])(
        '%s: answered through the gateway and for a pipeline',
        (name) => {
          answered(triton.gateway[name], 'iris');
          answered(triton.pipeline[name], 'chain');
        },
      );

      it('binary infer: MLServer fails (no binary tensor extension)', () => {
        expect(triton.mlserver['http infer, binary']).toMatchObject({ ok: false });
      });

      it('a model error comes back as an OIP error with the upstream status, never a traceback', () => {
        // MLServer answers a failing model with 500; a pipeline reports a failed step as 400.
        const cases = [
          [triton.gateway['http model error'], '500'],
          [triton.pipeline['http model error'], '400'],
        ] as const;
        for (const [r, status] of cases) {
          expect(r, JSON.stringify(r)).toMatchObject({ ok: false, status });
          expect(r?.message).toMatch(/features/);
          expect(r?.message).not.toMatch(/Traceback|File "/);
        }
      });
    });

    describe('tritonclient gRPC', () => {
      it.each(['grpc live', 'grpc ready', 'grpc model ready', 'grpc model ready, versioned'])(
        '%s: true through the gateway, on MLServer and for a pipeline',
        (name) => {
          isTrue(triton.gateway[name], 'gateway');
          isTrue(triton.mlserver[name], 'MLServer');
          isTrue(triton.pipeline[name], 'pipeline');
        },
      );

      it('an unknown model is not ready (MLServer fails: NOT_FOUND)', () => {
        expect(triton.gateway['grpc model ready, unknown model']).toMatchObject({ ok: true, value: false });
        expect(triton.mlserver['grpc model ready, unknown model']).toMatchObject({ ok: false });
      });

      it('model metadata, plain and versioned, names the model as the client did', () => {
        for (const name of ['grpc model metadata', 'grpc model metadata, versioned']) {
          expect(triton.gateway[name], JSON.stringify(triton.gateway[name])).toMatchObject({
            ok: true,
            value: 'iris',
          });
          expect(triton.mlserver[name]).toMatchObject({ ok: true, value: 'iris_1' });
          expect(triton.pipeline[name]).toMatchObject({ ok: true, value: 'chain' });
        }
      });

      it.each(['grpc infer, raw contents', 'grpc infer, gzip', 'grpc infer, deflate'])(
        '%s: answered through the gateway, on MLServer and for a pipeline',
        (name) => {
          answered(triton.gateway[name], 'iris');
          answered(triton.mlserver[name], 'iris_1');
          expect(triton.pipeline[name], JSON.stringify(triton.pipeline[name])).toMatchObject({ ok: true });
        },
      );

      it('a shape that does not match the raw contents is INVALID_ARGUMENT naming the input (MLServer: INTERNAL)', () => {
        for (const r of [triton.gateway['grpc bad shape'], triton.pipeline['grpc bad shape']]) {
          expect(r, JSON.stringify(r)).toMatchObject({ ok: false, status: 'StatusCode.INVALID_ARGUMENT' });
          expect(r?.message).toMatch(/input "predict": 96 bytes of FP64 data, but shape \[3,5\] needs 120/);
        }
        expect(triton.mlserver['grpc bad shape']).toMatchObject({ ok: false });
        expect(triton.mlserver['grpc bad shape'].status).not.toBe('StatusCode.INVALID_ARGUMENT');
      });
    });

    describe('KServe SDK', () => {
      it('REST live and ready read the JSON health body (MLServer fails: empty body)', () => {
        for (const name of ['kserve rest live', 'kserve rest ready']) {
          isTrue(kserve.gateway[name], 'gateway');
          expect(kserve.mlserver[name].ok).toBe(false);
        }
      });

      it('REST and gRPC readiness and infer, binary by default', () => {
        for (const target of ['gateway', 'mlserver', 'pipeline'] as const) {
          isTrue(kserve[target]['kserve rest model ready'], target);
          isTrue(kserve[target]['kserve grpc live'], target);
          isTrue(kserve[target]['kserve grpc model ready'], target);
        }
        answered(kserve.gateway['kserve rest infer, binary'], 'iris');
        answered(kserve.pipeline['kserve rest infer, binary'], 'chain');
        answered(kserve.gateway['kserve grpc infer'], 'iris');
        answered(kserve.mlserver['kserve grpc infer'], 'iris_1');
        expect(kserve.pipeline['kserve grpc infer']).toMatchObject({ ok: true });
      });

      it('REST binary infer: MLServer fails (no binary tensor extension)', () => {
        expect(kserve.mlserver['kserve rest infer, binary']).toMatchObject({ ok: false });
      });

      it('splits an experiment and keeps a session on the candidate its route header names', () => {
        const split = kserve.gateway['kserve rest experiment split'];
        expect(split, JSON.stringify(split)).toMatchObject({ ok: true });
        const { counts, sticky } = split.value as { counts: Record<string, number>; sticky: string[] };
        expect(Object.keys(counts).sort()).toEqual(['iris', 'iris2']);
        expect(new Set(sticky).size).toBe(1);
      });
    });

    describe('grpcurl', () => {
      const inferJson = (model: string, datatype = 'FP64') =>
        JSON.stringify({
          model_name: model,
          inputs: [{ name: 'predict', datatype, shape: [3, 4], contents: { fp64_contents: flowers } }],
        });
      const protoFlags = ['-import-path', 'proto', '-proto', 'inference.proto'];

      it('lists and describes the service by server reflection, without proto files', async () => {
        const list = await grpcurl([gatewayGrpc, 'list']);
        expect(list.stdout, list.stderr).toContain('inference.GRPCInferenceService');
        const describe = await grpcurl([gatewayGrpc, 'describe', 'inference.GRPCInferenceService']);
        expect(describe.stdout, describe.stderr).toContain('rpc ModelStreamInfer');
      });

      it('calls ModelInfer by reflection, naming the model as sent', async () => {
        const r = await grpcurl([
          '-d',
          inferJson('iris'),
          gatewayGrpc,
          'inference.GRPCInferenceService/ModelInfer',
        ]);
        expect(r.code, r.stderr).toBe(0);
        expect(JSON.parse(r.stdout)).toMatchObject({ modelName: 'iris', outputs: [{ name: 'predict' }] });
      });

      it('streams ModelStreamInfer: one response per request, for models and pipelines', async () => {
        const requests = [inferJson('iris'), inferJson('iris'), inferJson('iris')].join('\n');
        const r = await grpcurl(
          ['-d', '@', gatewayGrpc, 'inference.GRPCInferenceService/ModelStreamInfer'],
          requests,
        );
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout.match(/"modelName": "iris"/g)).toHaveLength(3);
        const p = await grpcurl(
          [
            '-H',
            'seldon-model: chain.pipeline',
            '-d',
            '@',
            gatewayGrpc,
            'inference.GRPCInferenceService/ModelStreamInfer',
          ],
          [inferJson('chain'), inferJson('chain')].join('\n'),
        );
        expect(p.code, p.stderr).toBe(0);
        expect(p.stdout.match(/"outputs"/g)).toHaveLength(2);
      });

      it('a bad datatype is InvalidArgument naming the input', async () => {
        const r = await grpcurl([
          '-d',
          inferJson('iris', 'FP33'),
          gatewayGrpc,
          'inference.GRPCInferenceService/ModelInfer',
        ]);
        expect(r.stderr).toMatch(/Code: InvalidArgument/);
        expect(r.stderr).toMatch(/input "predict": datatype "FP33"/);
      });

      it('a method the gateway does not serve is Unimplemented at once', async () => {
        const r = await grpcurl([
          '-max-time',
          '5',
          gatewayGrpc,
          'inference.GRPCInferenceService/RepositoryIndex',
        ]);
        expect(r.stderr).toMatch(/Code: Unimplemented/);
        expect(r.seconds).toBeLessThan(5);
      });

      it('the same calls on MLServer, with the proto file where it lacks reflection', async () => {
        const list = await grpcurl([mlserverGrpc, 'list']);
        const flags = list.code === 0 ? [] : protoFlags;
        const r = await grpcurl([
          ...flags,
          '-d',
          inferJson('iris_1'),
          mlserverGrpc,
          'inference.GRPCInferenceService/ModelInfer',
        ]);
        expect(r.code, r.stderr).toBe(0);
        expect(JSON.parse(r.stdout)).toMatchObject({ modelName: 'iris_1' });
      });
    });
  },
);
