// The dataflow as the Runtime deploys it (`--kubernetes`): Pipelines watched on a real
// kube-apiserver, run over a real Kafka broker. Pipelines are added, changed and deleted through
// the API while another pipeline, whose steps travel over topics, answers a steady load.
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { KafkaBus } from '../../src/runtime/bus/kafka-bus.ts';
import { followPipelines } from '../../src/runtime/dataflow/follow-pipelines.ts';
import { LivePipelines } from '../../src/runtime/dataflow/live-pipelines.ts';
import { DataflowMetrics } from '../../src/runtime/dataflow/metrics.ts';
import { ModelGateway } from '../../src/runtime/dataflow/model-gateway.ts';
import { PipelineGateway } from '../../src/runtime/dataflow/pipeline-gateway.ts';
import { jsonRequestToMessage, messageToJsonResponse } from '../../src/runtime/oip/convert.ts';
import { decodeResponse, encodeRequest } from '../../src/runtime/oip/messages.ts';
import { KubernetesSource } from '../../src/runtime/sources/kubernetes.ts';
import { customResourceDefinitions } from '../../src/spec/crd-schemas.ts';
import { dataflowStateTopic, pipelineTopic } from '../../src/spec/topics.ts';
import type { PipelineSpec } from '../../src/spec/types.ts';
import { type FakeModel, FakeModels, tensor } from '../runtime/dataflow/fixtures.ts';
import { type KafkaBroker, startKafka } from './harness/kafka.ts';
import {
  type ApplyObject,
  applyCrds,
  type KubeApiserver,
  serverSideApply,
  startKubeApiserver,
} from './harness/kube.ts';
import { describeE2E } from './harness/toolchain.ts';

const NS = 'live';
const NAMING = { prefix: 'seldon', namespace: NS };
const logged: string[] = [];
const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(line) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const add =
  (n: number): FakeModel =>
  (inputs) => [
    tensor(
      'x',
      (inputs[0].data as number[]).map((v) => v + n),
    ),
  ];
const chain = (...models: string[]): PipelineSpec => ({
  steps: models.map((m, i) => (i === 0 ? { name: m } : { name: m, inputs: [models[i - 1]] })),
  output: { steps: [models[models.length - 1]] },
});
const pipeline = (name: string, spec: PipelineSpec): ApplyObject => ({
  apiVersion: 'mlops.seldon.io/v1alpha1',
  kind: 'Pipeline',
  metadata: { name, namespace: NS },
  spec,
});

describeE2E(
  'the dataflow follows Pipelines watched on a real kube-apiserver, over real Kafka',
  ['java', 'go'],
  () => {
    let kafka: KafkaBroker;
    let kube: KubeApiserver;
    let kc: KubeConfig;

    beforeAll(async () => {
      [kafka, kube] = await Promise.all([startKafka(), startKubeApiserver()]);
      kc = new KubeConfig();
      kc.loadFromFile(kube.kubeconfigPath);
      await applyCrds(kube, customResourceDefinitions() as unknown as ApplyObject[]);
      await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
    }, 180_000);
    afterAll(async () => {
      await Promise.all([kafka?.stop(), kube?.stop()]);
    });

    it('adds, changes and deletes pipelines with no failed request to another; cleanTopicsOnDelete is honoured', async () => {
      const bus = new KafkaBus({ brokers: kafka.brokers, logger, instanceId: 'watch', partitions: 2 });
      const metrics = new DataflowMetrics();
      const models = new FakeModels({ a: add(1), b: add(10), c: add(100), d: add(1000) });
      const modelGateway = new ModelGateway(bus, NAMING, [], models, logger, 32, metrics);
      const gateway = new PipelineGateway(bus, NAMING, [], logger, 60_000, metrics);
      // No model client for the engines: every step travels over the model topics.
      const live = new LivePipelines(
        bus,
        NAMING,
        { engines: true, modelGateway, pipelineGateway: gateway },
        logger,
        metrics,
      );
      const custom = kc.makeApiClient(CustomObjectsApi);
      const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      await serverSideApply(kube, pipeline('steady', chain('a', 'b')));
      await serverSideApply(kube, pipeline('other', chain('a')));
      const source = await followPipelines(
        new KubernetesSource(kc, logger, NS, ['Pipeline']),
        NS,
        live,
        logger,
      );
      const infer = async (name: string, value: number) => {
        const req = jsonRequestToMessage({ id: `r${value}`, inputs: [tensor('x', [value])] }, name);
        const res = await gateway.infer(name, encodeRequest(req), {});
        return messageToJsonResponse(decodeResponse(res.value)).outputs[0].data[0] as number;
      };
      const settled = (want: string[], timeout = 30_000) =>
        vi.waitFor(() => expect(live.names).toEqual(want), { timeout, interval: 50 });
      // Uniquely numbered requests from 8 callers to `steady`, from `startLoad` until the end.
      let done = false;
      let next = 0;
      const answers = new Map<number, number>();
      const failures: string[] = [];
      let callers: Promise<unknown> = Promise.resolve();
      const startLoad = () => {
        callers = Promise.all(
          Array.from({ length: 8 }, async () => {
            while (!done) {
              const i = next++;
              await infer('steady', i).then(
                (v) => answers.set(i, v),
                (err: Error) => failures.push(`${i}: ${err.message}`),
              );
            }
          }),
        );
      };
      try {
        await settled(['other', 'steady']);
        const steadyVersion = live.version('steady');
        startLoad();
        const answered = async (n: number) => {
          const target = answers.size + n;
          while (answers.size < target) await sleep(10);
        };
        await answered(50);
        // Added, and changed.
        await serverSideApply(
          kube,
          pipeline('gone', { ...chain('d', 'c'), dataflow: { cleanTopicsOnDelete: true } }),
        );
        await serverSideApply(kube, pipeline('other', chain('c')));
        await settled(['gone', 'other', 'steady']);
        await vi.waitFor(async () => expect(await infer('other', 1)).toBe(101), { timeout: 30_000 });
        expect(await infer('gone', 1)).toBe(1101);
        await answered(50);
        // Deleted: `gone` with its topics, `other` without.
        const ref = { group: 'mlops.seldon.io', version: 'v1alpha1', namespace: NS, plural: 'pipelines' };
        await custom.deleteNamespacedCustomObject({ ...ref, name: 'gone' });
        await custom.deleteNamespacedCustomObject({ ...ref, name: 'other' });
        await settled(['steady']);
        await answered(50);
        done = true;
        await callers;
        console.log(`steady: ${next} sent, ${answers.size} answered, ${failures.length} failed`);
        expect(failures).toEqual([]);
        expect(answers.size).toBe(next);
        for (const [i, v] of answers) expect(v).toBe(i + 11);
        // `steady` kept its engine version throughout.
        expect(live.version('steady')).toBe(steadyVersion);
        const topics = await admin.listTopics();
        expect(topics).not.toContain(pipelineTopic(NAMING, 'gone', 'inputs'));
        expect(topics).not.toContain(pipelineTopic(NAMING, 'gone', 'outputs'));
        expect(topics).not.toContain(dataflowStateTopic(NAMING, 'gone'));
        expect(topics).toContain(pipelineTopic(NAMING, 'other', 'inputs'));
        expect(logged).toEqual([]);
      } finally {
        done = true;
        await callers;
        await source.stop();
        await live.stop();
        await modelGateway.stop();
        await gateway.stop();
        await admin.disconnect();
        await bus.close();
      }
    }, 180_000);
  },
);
