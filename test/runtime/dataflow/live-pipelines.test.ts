import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../../src/runtime/bus/memory-bus.ts';
import { LivePipelines, versionOf } from '../../../src/runtime/dataflow/live-pipelines.ts';
import { DataflowMetrics } from '../../../src/runtime/dataflow/metrics.ts';
import type { ModelClient } from '../../../src/runtime/dataflow/model-client.ts';
import { ModelGateway } from '../../../src/runtime/dataflow/model-gateway.ts';
import { PipelineGateway } from '../../../src/runtime/dataflow/pipeline-gateway.ts';
import { jsonRequestToMessage, messageToJsonResponse } from '../../../src/runtime/oip/convert.ts';
import { decodeResponse, encodeRequest } from '../../../src/runtime/oip/messages.ts';
import { DEFAULT_NAMING, pipelineTopic } from '../../../src/spec/topics.ts';
import { API_VERSION, type PipelineResource, type PipelineSpec } from '../../../src/spec/types.ts';
import { type FakeModel, FakeModels, silent, sleep, tensor } from './fixtures.ts';

const add =
  (n: number): FakeModel =>
  (inputs) => [
    tensor(
      'x',
      (inputs[0].data as number[]).map((v) => v + n),
    ),
  ];

const resource = (name: string, spec: PipelineSpec): PipelineResource => ({
  apiVersion: API_VERSION,
  kind: 'Pipeline',
  metadata: { name },
  spec,
});
const chain = (...models: string[]): PipelineSpec => ({
  steps: models.map((m, i) => (i === 0 ? { name: m } : { name: m, inputs: [models[i - 1]] })),
  output: { steps: [models[models.length - 1]] },
});

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

/** `overTopics`: the engines get no model client, so every step travels over the model topics. */
async function dataflow(overTopics = false) {
  const bus = new MemoryBus(2);
  const metrics = new DataflowMetrics();
  const models = new FakeModels({ a: add(1), b: add(10), c: add(100), d: add(1000) });
  // Over topics, b takes a while: requests are under way between a and b whenever a change lands.
  const served: ModelClient = overTopics
    ? {
        infer: async (m, request) => {
          if (m === 'b') await sleep(20);
          return models.infer(m, request);
        },
        close: () => undefined,
      }
    : models;
  const modelGateway = new ModelGateway(bus, DEFAULT_NAMING, [], served, silent, 32, metrics);
  const pipelineGateway = new PipelineGateway(bus, DEFAULT_NAMING, [], silent, 5000, metrics);
  const live = new LivePipelines(
    bus,
    DEFAULT_NAMING,
    { engines: true, models: overTopics ? undefined : models, modelGateway, pipelineGateway },
    silent,
    metrics,
  );
  stops.push(async () => {
    await live.stop();
    await modelGateway.stop();
    await pipelineGateway.stop();
  });
  const infer = async (pipeline: string, value: number) => {
    const req = jsonRequestToMessage({ id: `r${value}`, inputs: [tensor('x', [value])] }, pipeline);
    const res = await pipelineGateway.infer(pipeline, encodeRequest(req), {});
    return messageToJsonResponse(decodeResponse(res.value)).outputs[0].data[0] as number;
  };
  /** Uniquely numbered requests from 4 callers until stopped; what each returned. */
  const load = (pipeline: string) => {
    let done = false;
    const answers = new Map<number, number>();
    const failures: string[] = [];
    let next = 0;
    const caller = async () => {
      while (!done) {
        const i = next++;
        try {
          answers.set(i, await infer(pipeline, i));
        } catch (err) {
          failures.push(`${i}: ${(err as Error).message}`);
        }
      }
    };
    const callers = Promise.all(Array.from({ length: 4 }, caller));
    return {
      answers,
      /** Resolves once `n` more requests were answered. */
      async answered(n: number) {
        const target = answers.size + n;
        while (answers.size < target) await sleep(5);
      },
      async stop() {
        done = true;
        await callers;
        return { answers, failures, sent: next };
      },
    };
  };
  return { bus, live, models, infer, load, pipelineGateway };
}

describe('pipelines followed live', () => {
  it('adds, changes and deletes pipelines without failing a request to another one', async () => {
    const df = await dataflow();
    await df.live.apply([resource('steady', chain('a', 'b')), resource('other', chain('a'))]);
    const loading = df.load('steady');
    await loading.answered(10);
    // Inline change, a change to a pipeline that travels over topics (batching), an addition.
    const batched: PipelineSpec = {
      steps: [
        { name: 'd', batch: { size: 1 } },
        { name: 'c', inputs: ['d'] },
      ],
    };
    batched.output = { steps: ['c'] };
    await df.live.apply([
      resource('steady', chain('a', 'b')),
      resource('other', chain('c')),
      resource('new', batched),
    ]);
    expect(await df.infer('other', 1)).toBe(101);
    expect(await df.infer('new', 1)).toBe(1101);
    await loading.answered(10);
    const deleted = resource('new', batched);
    deleted.spec.dataflow = { cleanTopicsOnDelete: true };
    await df.live.apply([resource('steady', chain('a', 'b')), resource('other', chain('c')), deleted]);
    await df.live.apply([resource('steady', chain('a', 'b')), resource('other', chain('c'))]);
    await loading.answered(10);
    const { answers, failures, sent } = await loading.stop();
    expect(failures).toEqual([]);
    expect(answers.size).toBe(sent);
    for (const [i, v] of answers) expect(v).toBe(i + 11);
    expect(df.live.names).toEqual(['other', 'steady']);
    // The deleted pipeline asked for its topics to go; its calls are refused.
    expect(df.bus.has(pipelineTopic(DEFAULT_NAMING, 'new', 'inputs'))).toBe(false);
    expect(df.bus.has(pipelineTopic(DEFAULT_NAMING, 'new', 'outputs'))).toBe(false);
    await expect(df.infer('new', 1)).rejects.toMatchObject({ status: 404 });
    // A deletion without cleanTopicsOnDelete keeps the topics.
    await df.live.apply([resource('steady', chain('a', 'b'))]);
    expect(df.bus.has(pipelineTopic(DEFAULT_NAMING, 'other', 'inputs'))).toBe(true);
  });

  it('a pipeline changed under load answers every request once, each by one version', async () => {
    const df = await dataflow();
    await df.live.apply([resource('p', chain('a', 'b'))]);
    const v1 = df.live.version('p');
    const loading = df.load('p');
    await loading.answered(20);
    await df.live.apply([resource('p', chain('a', 'c'))]);
    expect(df.live.version('p')).not.toBe(v1);
    await loading.answered(20);
    const { answers, failures, sent } = await loading.stop();
    expect(failures).toEqual([]);
    expect(answers.size).toBe(sent);
    const versions = [...answers].map(([i, v]) => (v === i + 11 ? 1 : v === i + 101 ? 2 : 0));
    expect(versions).not.toContain(0);
    expect(versions).toContain(1);
    expect(versions).toContain(2);
    // Once the change took effect every new request runs on the new version.
    expect(await df.infer('p', 5)).toBe(106);
  });

  it('a pipeline over topics changed under load rolls out as a new version: requests under way finish on the old', async () => {
    const df = await dataflow(true);
    await df.live.apply([resource('t', chain('a', 'b'))]);
    const loading = df.load('t');
    await loading.answered(20);
    // A request between a and b finishing on c→a would answer a's output (i + 1), or never.
    await df.live.apply([resource('t', chain('c', 'a'))]);
    await loading.answered(20);
    const { answers, failures, sent } = await loading.stop();
    expect(failures).toEqual([]);
    expect(answers.size).toBe(sent);
    const versions = [...answers].map(([i, v]) => (v === i + 11 ? 1 : v === i + 101 ? 2 : `wrong ${v - i}`));
    expect(new Set(versions)).toEqual(new Set([1, 2]));
    await sleep(50);
    expect(df.bus.read(pipelineTopic(DEFAULT_NAMING, 't', 'outputs'))).toHaveLength(sent);
  });

  it('a pipeline changed from inline to over topics and back under load answers every request exactly once', async () => {
    const df = await dataflow();
    const overTopics = { ...chain('a', 'b'), allowCycles: true };
    await df.live.apply([resource('m', chain('a', 'b'))]);
    const loading = df.load('m');
    await loading.answered(20);
    await df.live.apply([resource('m', overTopics)]);
    await loading.answered(20);
    await df.live.apply([resource('m', chain('a', 'b'))]);
    await loading.answered(20);
    const { answers, failures, sent } = await loading.stop();
    expect(failures).toEqual([]);
    expect(answers.size).toBe(sent);
    for (const [i, v] of answers) expect(v).toBe(i + 11);
    await sleep(50);
    // The engine that read the model topics did not redo the steps already run inline.
    const outputs = df.bus.read(pipelineTopic(DEFAULT_NAMING, 'm', 'outputs'));
    expect(outputs).toHaveLength(sent);
    expect(df.models.calls.b).toHaveLength(sent);
  });

  it('names a version by the spec, whatever the key order', () => {
    expect(versionOf({ steps: [{ name: 'a', inputs: ['x'] }] })).toBe(
      versionOf({ steps: [{ inputs: ['x'], name: 'a' }] }),
    );
    expect(versionOf(chain('a', 'b'))).not.toBe(versionOf(chain('a', 'c')));
  });

  it('reports a pipeline that cannot be planned and runs the others', async () => {
    const df = await dataflow();
    await df.live.apply([
      resource('bad', { steps: [{ name: 'a', inputs: ['nope'] }] }),
      resource('good', chain('a')),
    ]);
    expect(df.live.names).toEqual(['good']);
    expect(await df.infer('good', 1)).toBe(2);
  });
});
