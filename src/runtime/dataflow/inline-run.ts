import { HEADER_ERRORS, HEADER_INLINE, HEADER_PIPELINE } from '../../spec/headers.ts';
import { modelTopic, type TopicNaming } from '../../spec/topics.ts';
import type { BusRecord, Headers, OutRecord } from '../bus/bus.ts';
import { endSpan, injectSpan, startStepSpan } from '../telemetry/tracing.ts';
import { mergeHeaders } from './headers.ts';
import { joinReady } from './join.ts';
import { ModelCallError, type ModelClient } from './model-client.ts';
import {
  concatPayloads,
  decodePayload,
  encodePayload,
  type Payload,
  renameTensors,
  selectTensor,
} from './payload.ts';
import type { PipelinePlan, StepPlan, TopicRef } from './plan.ts';

/** A record this request has written so far, by topic. */
interface Written {
  payload: Payload;
  headers: Headers;
}

export interface InlineContext {
  plan: PipelinePlan;
  naming: TopicNaming;
  models: ModelClient;
  /** Called with each failed attempt of a model that could not be reached; throws to give up. */
  retry(err: ModelCallError, attempt: number): Promise<void>;
  onModelCall?(model: string, outcome: 'ok' | 'error' | 'retry'): void;
}

/**
 * Runs every step of one request in dependency order (`plan.inlineOrder`), calling the models
 * directly, and returns every record the same request produces when its steps travel over topics:
 * each step's model input and output on the model's topics, model errors on the errors topic, and
 * the pipeline's output. The caller writes them in one transaction with the consumed offset, so
 * the whole request commits once or not at all, and every topic reads as it would otherwise.
 */
export async function runInline(ctx: InlineContext, input: BusRecord): Promise<OutRecord[]> {
  const { plan } = ctx;
  const out: OutRecord[] = [];
  const written = new Map<string, Written>([
    [input.topic, { payload: decodePayload('inputs', input.value), headers: input.headers }],
  ]);
  const write = (topic: string, value: Buffer, headers: Headers) =>
    out.push({ topic, key: input.key, value, headers, partition: input.partition });
  // Step records are marked as served: the model gateway does not call the model again, and an
  // engine reading the model topics later (the pipeline changed to travel over topics) skips them.
  const served = (headers: Headers) => ({ ...headers, [HEADER_INLINE]: '1' });
  for (const i of plan.inlineOrder ?? []) {
    const step = plan.steps[i];
    const data = gather(step, step.sources, step.inputsJoin, written);
    const triggers = gather(step, step.triggers, step.triggersJoin, written);
    if (!data || !triggers) continue;
    const headers = mergeHeaders(data.length ? data : triggers);
    headers[HEADER_PIPELINE] = plan.name;
    const payload = concatPayloads(data.map((d) => d.payload));
    const request = encodePayload(step.sinkIo, payload, step.sinkModel);
    if (step.name === '<output>') {
      write(step.sink, request, headers);
      break;
    }
    // The step's records and its model call carry the step's span from here on.
    const span = startStepSpan(plan.name, step.name, headers);
    injectSpan(span, headers);
    write(step.sink, request, served(headers));
    written.set(step.sink, { payload, headers });
    const result = await call(ctx, step.name, request, headers);
    endSpan(span, result instanceof Error ? result : undefined);
    if (result instanceof Error) {
      const failed = { ...headers, [HEADER_ERRORS]: step.name };
      const message = Buffer.from(result.message);
      write(plan.errorsTopic, message, served(failed));
      // What the engine forwards from the errors topic when steps travel over topics.
      write(plan.outputTopic, message, failed);
      break;
    }
    const outputs = modelTopic(ctx.naming, step.name, 'outputs');
    write(outputs, result, served(headers));
    written.set(outputs, { payload: decodePayload('outputs', result), headers });
  }
  return out;
}

/**
 * The parts a step joins from what this request wrote, or undefined when the join is not
 * satisfied. Every record of the request is known by now, so a join decides at once what a
 * windowed join decides when its window closes: `inner` needs every part, `outer` takes what
 * exists, `any` the first in the order the references are listed.
 */
function gather(
  step: StepPlan,
  refs: TopicRef[],
  join: StepPlan['inputsJoin'],
  written: Map<string, Written>,
): Written[] | undefined {
  const parts = refs.map((ref) => {
    const w = written.get(ref.topic);
    if (!w) return undefined;
    let payload: Payload | undefined = w.payload;
    if (ref.tensor) payload = selectTensor(payload, ref.tensor);
    if (!payload) return undefined;
    const map = step.tensorMap;
    if (map.size) payload = renameTensors(payload, (n) => map.get(`${ref.topic}\u0000${n}`));
    return { payload, headers: w.headers };
  });
  if (!joinReady(join, parts, true)) return undefined;
  const present = parts.filter((p): p is Written => p !== undefined);
  return join === 'any' ? present.slice(0, 1) : present;
}

/** The model's response, or the error to answer with; retries while the model cannot be reached. */
async function call(ctx: InlineContext, model: string, request: Buffer, headers: Headers) {
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await ctx.models.infer(model, request, headers);
      ctx.onModelCall?.(model, 'ok');
      return response;
    } catch (err) {
      if (err instanceof ModelCallError && err.retryable) {
        ctx.onModelCall?.(model, 'retry');
        await ctx.retry(err, attempt);
        continue;
      }
      ctx.onModelCall?.(model, 'error');
      return err instanceof Error ? err : new Error(String(err));
    }
  }
}
