import pino from 'pino';
import type { Bus } from '../../../src/runtime/bus/bus.ts';
import { MemoryBus } from '../../../src/runtime/bus/memory-bus.ts';
import { PipelineEngine } from '../../../src/runtime/dataflow/engine.ts';
import { DataflowMetrics } from '../../../src/runtime/dataflow/metrics.ts';
import type { ModelClient } from '../../../src/runtime/dataflow/model-client.ts';
import { ModelGateway } from '../../../src/runtime/dataflow/model-gateway.ts';
import { PipelineGateway } from '../../../src/runtime/dataflow/pipeline-gateway.ts';
import { planPipeline } from '../../../src/runtime/dataflow/plan.ts';
import {
  jsonRequestToMessage,
  jsonResponseToMessage,
  messageToJsonResponse,
} from '../../../src/runtime/oip/convert.ts';
import { decodeRequest, encodeResponse, messageToJsonRequest } from '../../../src/runtime/oip/index.ts';
import type { JsonInferRequest, JsonTensor } from '../../../src/runtime/oip/json-types.ts';
import { decodeResponse, encodeRequest } from '../../../src/runtime/oip/messages.ts';
import { DEFAULT_NAMING } from '../../../src/spec/topics.ts';
import type { PipelineSpec } from '../../../src/spec/types.ts';

export const silent = pino({ level: 'silent' });

/** A model as a JS function from input tensors to output tensors (or an error). */
export type FakeModel = (inputs: JsonTensor[], req: JsonInferRequest) => JsonTensor[] | Error;

export class FakeModels implements ModelClient {
  readonly calls: Record<string, JsonInferRequest[]> = {};

  constructor(private readonly models: Record<string, FakeModel>) {}

  async infer(model: string, request: Buffer): Promise<Buffer> {
    const req = messageToJsonRequest(decodeRequest(request));
    const calls = this.calls[model] ?? [];
    calls.push(req);
    this.calls[model] = calls;
    const fn = this.models[model];
    if (!fn) throw new Error(`no model ${model}`);
    const out = fn(req.inputs, req);
    if (out instanceof Error) throw out;
    return encodeResponse(jsonResponseToMessage({ model_name: model, id: req.id, outputs: out }));
  }

  close(): void {}
}

export const tensor = (
  name: string,
  data: number[],
  datatype: JsonTensor['datatype'] = 'FP32',
): JsonTensor => ({
  name,
  datatype,
  shape: [1, data.length],
  data,
});

/**
 * One pipeline on an in-process bus with model gateway and pipeline gateway. `inline`: the engine
 * gets the model client, so a pipeline that can runs its steps itself.
 */
export async function runPipeline<B extends Bus = MemoryBus>(
  name: string,
  spec: PipelineSpec,
  models: Record<string, FakeModel>,
  opts: { timeoutMs?: number; bus?: B; inline?: boolean } = {},
) {
  const bus = opts.bus ?? (new MemoryBus(2) as unknown as B);
  const plan = planPipeline(name, spec, DEFAULT_NAMING);
  const metrics = new DataflowMetrics();
  const client = new FakeModels(models);
  const engine = new PipelineEngine(
    plan,
    bus,
    DEFAULT_NAMING,
    silent,
    Date.now,
    metrics,
    opts.inline ? client : undefined,
  );
  const modelGateway = new ModelGateway(
    bus,
    DEFAULT_NAMING,
    Object.keys(models),
    client,
    silent,
    32,
    metrics,
  );
  const pipelineGateway = new PipelineGateway(
    bus,
    DEFAULT_NAMING,
    [name],
    silent,
    opts.timeoutMs ?? 2000,
    metrics,
  );
  await engine.start();
  await modelGateway.start();
  await pipelineGateway.start();
  return {
    bus,
    engine,
    client,
    plan,
    metrics,
    async infer(req: JsonInferRequest, headers: Record<string, string> = {}) {
      const result = await pipelineGateway.infer(
        name,
        encodeRequest(jsonRequestToMessage(req, name)),
        headers,
      );
      return { response: messageToJsonResponse(decodeResponse(result.value)), headers: result.headers };
    },
    async stop() {
      await pipelineGateway.stop();
      await modelGateway.stop();
      await engine.stop();
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
