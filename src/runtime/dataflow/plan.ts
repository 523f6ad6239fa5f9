import {
  directionOf,
  parsePipelineRef,
  parseStepRef,
  pipelineRefForm,
  STEP_REF_FORM,
} from '../../spec/references.ts';
import { errorsTopic, modelTopic, pipelineTopic, type TopicIo, type TopicNaming } from '../../spec/topics.ts';
import type { JoinType, PipelineSpec } from '../../spec/types.ts';

/** A resolved step input: a topic, the pipeline whose records count, and an optional tensor. */
export interface TopicRef {
  topic: string;
  pipeline: string;
  tensor?: string;
  /** The reference as written, for messages. */
  ref: string;
}

export interface StepPlan {
  /** Step (= model) name; `<input>`/`<output>` for the pipeline's own input and output steps. */
  name: string;
  sources: TopicRef[];
  triggers: TopicRef[];
  sink: string;
  sinkIo: TopicIo;
  /** model_name written into records on the sink. */
  sinkModel: string;
  inputsJoin: JoinType;
  triggersJoin: JoinType;
  windowMs: number;
  /** `<topic>\0<tensor>` → new tensor name. */
  tensorMap: Map<string, string>;
  batchSize: number;
}

export interface PipelinePlan {
  name: string;
  steps: StepPlan[];
  inputTopic: string;
  outputTopic: string;
  errorsTopic: string;
  allowCycles: boolean;
  maxStepRevisits: number;
  /** Every topic the engine reads. */
  topics: string[];
  /**
   * Step indices in an order where each step comes after every step whose records it reads, when
   * every step reads only this request's own records (the pipeline's inputs and its own steps) and
   * nothing is batched or revisited; such a pipeline can run a whole request in the engine that
   * holds it. Undefined otherwise: records then travel over topics between steps.
   */
  inlineOrder?: number[];
}

export const DEFAULT_JOIN_WINDOW_MS = 60_000;

/**
 * Compiles a Pipeline spec into the engine's plan, resolving references the way Seldon does:
 * bare `step` ⇒ `step.outputs`, the pipeline's own name ⇒ `<pipeline>.inputs`, optional tensor.
 * Throws one error listing every unresolvable reference.
 */
export function planPipeline(name: string, spec: PipelineSpec, naming: TopicNaming): PipelinePlan {
  const problems: string[] = [];
  const stepNames = new Set(spec.steps.map((s) => s.name));
  if (spec.steps.length === 0) problems.push('spec.steps: a pipeline needs at least one step');
  if (stepNames.has(name)) problems.push(`spec.steps: no step may be named like the pipeline ("${name}")`);
  const resolve = (ref: string, at: string): TopicRef | undefined => {
    const parsed = parseStepRef(ref);
    if (!parsed) {
      problems.push(`${at}: "${ref}" must be ${STEP_REF_FORM}`);
      return undefined;
    }
    const { name: head, tensor } = parsed;
    const io = directionOf(parsed, name);
    if (head === name) return { topic: pipelineTopic(naming, name, io), pipeline: name, tensor, ref };
    if (!stepNames.has(head)) {
      problems.push(
        `${at}: "${ref}" names no step of pipeline "${name}" (steps: ${[...stepNames].join(', ')})`,
      );
      return undefined;
    }
    return { topic: modelTopic(naming, head, io), pipeline: name, tensor, ref };
  };
  const resolveExternal = (ref: string, at: string): TopicRef | undefined => {
    const parsed = parsePipelineRef(ref);
    if (!parsed) {
      problems.push(`${at}: "${ref}" must be ${pipelineRefForm(ref)}`);
      return undefined;
    }
    const { pipeline, step, direction: io = 'outputs', tensor } = parsed;
    const topic = step === undefined ? pipelineTopic(naming, pipeline, io) : modelTopic(naming, step, io);
    return { topic, pipeline, tensor, ref };
  };
  const tensorMap = (map: Record<string, string> | undefined, at: string, external: boolean) => {
    const out = new Map<string, string>();
    for (const [from, to] of Object.entries(map ?? {})) {
      const r = external ? resolveExternal(from, `${at}["${from}"]`) : resolve(from, `${at}["${from}"]`);
      if (r && !r.tensor) problems.push(`${at}["${from}"]: a tensorMap key must name a tensor`);
      if (r?.tensor) out.set(`${r.topic}\u0000${r.tensor}`, to);
    }
    return out;
  };
  const defined = <T>(xs: (T | undefined)[]): T[] => xs.filter((x): x is T => x !== undefined);

  const inputTopic = pipelineTopic(naming, name, 'inputs');
  const outputTopic = pipelineTopic(naming, name, 'outputs');
  const steps: StepPlan[] = spec.steps.map((s, i) => {
    const at = `spec.steps[${i}] (${s.name})`;
    const sources = s.inputs?.length
      ? defined(s.inputs.map((r, j) => resolve(r, `${at}.inputs[${j}]`)))
      : [{ topic: inputTopic, pipeline: name, ref: `${name}.inputs` }];
    const triggers = defined((s.triggers ?? []).map((r, j) => resolve(r, `${at}.triggers[${j}]`)));
    const size = s.batch?.size ?? 0;
    return {
      name: s.name,
      sources,
      triggers,
      sink: modelTopic(naming, s.name, 'inputs'),
      sinkIo: 'inputs' as const,
      sinkModel: s.name,
      inputsJoin: s.inputsJoinType ?? 'inner',
      triggersJoin: s.triggersJoinType ?? 'inner',
      windowMs: s.joinWindowMs || DEFAULT_JOIN_WINDOW_MS,
      tensorMap: tensorMap(s.tensorMap, `${at}.tensorMap`, false),
      batchSize: size > 1 ? size : 0,
    };
  });
  if (spec.input) {
    const ins = spec.input;
    if (!ins.externalInputs?.length) problems.push('spec.input.externalInputs: list at least one source');
    steps.push({
      name: '<input>',
      sources: defined(
        (ins.externalInputs ?? []).map((r, j) => resolveExternal(r, `spec.input.externalInputs[${j}]`)),
      ),
      triggers: defined(
        (ins.externalTriggers ?? []).map((r, j) => resolveExternal(r, `spec.input.externalTriggers[${j}]`)),
      ),
      sink: inputTopic,
      sinkIo: 'inputs',
      sinkModel: name,
      inputsJoin: ins.joinType ?? 'inner',
      triggersJoin: ins.triggersJoinType ?? 'inner',
      windowMs: ins.joinWindowMs || DEFAULT_JOIN_WINDOW_MS,
      tensorMap: tensorMap(ins.tensorMap, 'spec.input.tensorMap', true),
      batchSize: 0,
    });
  }
  if (spec.output?.steps?.length) {
    const out = spec.output;
    steps.push({
      name: '<output>',
      sources: defined((out.steps ?? []).map((r, j) => resolve(r, `spec.output.steps[${j}]`))),
      triggers: [],
      sink: outputTopic,
      sinkIo: 'outputs',
      sinkModel: name,
      inputsJoin: out.stepsJoin ?? 'inner',
      triggersJoin: 'inner',
      windowMs: out.joinWindowMs || DEFAULT_JOIN_WINDOW_MS,
      tensorMap: tensorMap(out.tensorMap, 'spec.output.tensorMap', false),
      batchSize: 0,
    });
  }
  if (problems.length) throw new Error(`pipeline "${name}": ${problems.join('; ')}`);
  const errors = errorsTopic(naming);
  const topics = new Set<string>([errors]);
  for (const s of steps) for (const r of [...s.sources, ...s.triggers]) topics.add(r.topic);
  const plan: PipelinePlan = {
    name,
    steps,
    inputTopic,
    outputTopic,
    errorsTopic: errors,
    allowCycles: spec.allowCycles ?? false,
    maxStepRevisits: spec.maxStepRevisits ?? 0,
    topics: [...topics].sort(),
  };
  plan.inlineOrder = inlineOrder(plan, naming);
  return plan;
}

/**
 * A dependency order of the steps when one request's steps can all run in one place (see
 * `PipelinePlan.inlineOrder`): each step's sources and triggers are the pipeline's inputs or the
 * inputs/outputs of its own steps, and those dependencies have no cycle.
 */
function inlineOrder(plan: PipelinePlan, naming: TopicNaming): number[] | undefined {
  if (plan.allowCycles || plan.steps.some((s) => s.batchSize > 0 || s.name === '<input>')) return undefined;
  // Which step writes each topic a step may read: its model's inputs (the step's sink) and outputs.
  const writer = new Map<string, number>();
  plan.steps.forEach((s, i) => {
    if (s.name === '<output>') return;
    writer.set(s.sink, i);
    writer.set(modelTopic(naming, s.name, 'outputs'), i);
  });
  const deps: number[][] = [];
  for (const s of plan.steps) {
    const needs: number[] = [];
    for (const r of [...s.sources, ...s.triggers]) {
      if (r.pipeline !== plan.name) return undefined;
      if (r.topic === plan.inputTopic) continue;
      const w = writer.get(r.topic);
      if (w === undefined) return undefined;
      needs.push(w);
    }
    deps.push(needs);
  }
  const order: number[] = [];
  const state = new Map<number, 'visiting' | 'done'>();
  const visit = (i: number): boolean => {
    if (state.get(i) === 'done') return true;
    if (state.get(i) === 'visiting') return false;
    state.set(i, 'visiting');
    if (!deps[i].every(visit)) return false;
    state.set(i, 'done');
    order.push(i);
    return true;
  };
  for (let i = 0; i < plan.steps.length; i++) if (!visit(i)) return undefined;
  return order;
}
