/**
 * Seldon's reference syntax, parsed and written in one place.
 *
 * Inside a pipeline (step inputs, triggers, tensor map keys, output steps) a reference is
 * `x`, `x.inputs|outputs` or `x.inputs|outputs.tensor`, where `x` is a step (a model) or the
 * pipeline itself. From another pipeline (`input.externalInputs`, `externalTriggers`, tensor map
 * keys) it is `p[.step.s][.inputs|outputs[.tensor]]`. Parsing is structural: it splits the parts
 * and checks the direction; `wellFormed*` adds the stricter rules a reviewer applies.
 */

import type { PipelineSpec } from './types.ts';

export type Direction = 'inputs' | 'outputs';

/** A reference inside a pipeline: a step's (or the pipeline's own) data, optionally one tensor. */
export interface StepRef {
  /** The step (model) name, or the pipeline's own name for its inputs. */
  readonly name: string;
  /** Undefined when the reference is the bare name (see `directionOf`). */
  readonly direction?: Direction;
  readonly tensor?: string;
}

/** A reference to another pipeline's data, or to one of its steps. */
export interface PipelineRef {
  readonly pipeline: string;
  readonly step?: string;
  /** Undefined when not written; Seldon reads it as `outputs`. */
  readonly direction?: Direction;
  readonly tensor?: string;
}

export function isDirection(value: unknown): value is Direction {
  return value === 'inputs' || value === 'outputs';
}

/** The name a reference starts with (a step, or a pipeline), whether or not the rest is valid. */
export function referenceHead(ref: string): string {
  const dot = ref.indexOf('.');
  return dot < 0 ? ref : ref.slice(0, dot);
}

/** `x[.inputs|outputs[.tensor]]`; undefined when the second part is not a direction. */
export function parseStepRef(ref: string): StepRef | undefined {
  const [name, direction, ...tensor] = ref.split('.');
  if (direction === undefined) return { name };
  if (!isDirection(direction)) return undefined;
  return tensor.length ? { name, direction, tensor: tensor.join('.') } : { name, direction };
}

/** `p[.step.s][.inputs|outputs[.tensor]]`; undefined when a direction is expected but missing. */
export function parsePipelineRef(ref: string): PipelineRef | undefined {
  const [pipeline, ...parts] = ref.split('.');
  let step: string | undefined;
  if (parts[0] === 'step' && parts.length >= 2) {
    step = parts[1];
    parts.splice(0, 2);
  }
  const [direction, ...tensor] = parts;
  const at = step === undefined ? { pipeline } : { pipeline, step };
  if (direction === undefined) return at;
  if (!isDirection(direction)) return undefined;
  return tensor.length ? { ...at, direction, tensor: tensor.join('.') } : { ...at, direction };
}

/** The direction a step reference reads: a bare name means a step's outputs, the pipeline's inputs. */
export function directionOf(ref: StepRef, pipeline: string): Direction {
  return ref.direction ?? (ref.name === pipeline ? 'inputs' : 'outputs');
}

export function renderStepRef(ref: StepRef): string {
  return [ref.name, ...directionAndTensor(ref)].join('.');
}

export function renderPipelineRef(ref: PipelineRef): string {
  const head = ref.step === undefined ? [ref.pipeline] : [ref.pipeline, 'step', ref.step];
  return [...head, ...directionAndTensor(ref)].join('.');
}

function directionAndTensor(ref: { direction?: Direction; tensor?: string }): string[] {
  if (ref.direction === undefined) return [];
  return ref.tensor === undefined ? [ref.direction] : [ref.direction, ref.tensor];
}

/** Why a tensor name cannot be used in a reference, or undefined. */
export function tensorNameProblem(tensor: string): string | undefined {
  if (tensor.length === 0) return 'is empty';
  if (tensor.includes('.')) return 'contains a dot, which Seldon reads as a separator';
  if (/\s/.test(tensor)) return 'contains white space';
  return undefined;
}

/** Names in references are non-empty and free of white space (dots already split them). */
const wellFormedName = (name: string) => name.length > 0 && !/\s/.test(name);
const wellFormedTensor = (tensor: string | undefined) =>
  tensor === undefined || tensorNameProblem(tensor) === undefined;

/** The parsed reference when every part is usable as written (no empty parts, dotted tensors or spaces). */
export function wellFormedStepRef(ref: string): StepRef | undefined {
  const r = parseStepRef(ref);
  return r && wellFormedName(r.name) && wellFormedTensor(r.tensor) ? r : undefined;
}

export function wellFormedPipelineRef(ref: string): PipelineRef | undefined {
  const r = parsePipelineRef(ref);
  if (!r || !wellFormedName(r.pipeline) || !wellFormedTensor(r.tensor)) return undefined;
  return r.step === undefined || wellFormedName(r.step) ? r : undefined;
}

/** How a step reference is written, for messages. */
export const STEP_REF_FORM = '<step>[.(inputs|outputs)[.<tensor>]]';

/** How a malformed pipeline reference should have been written (with or without a step), for messages. */
export function pipelineRefForm(ref: string): string {
  const [, second, third] = ref.split('.');
  return second === 'step' && third !== undefined
    ? '<pipeline>.step.<step>.(inputs|outputs)[.<tensor>]'
    : '<pipeline>.(inputs|outputs)[.<tensor>]';
}

/**
 * The references inside a pipeline (step inputs and triggers, output steps) whose head is neither
 * one of its steps nor the pipeline itself: nothing would ever produce their data. `where` is
 * `step "<name>"` or `output`.
 */
export function unknownStepReferences(
  pipeline: string,
  spec: Pick<PipelineSpec, 'steps' | 'output'>,
): { where: string; ref: string }[] {
  const steps = new Set(spec.steps.map((s) => s.name));
  const known = (ref: string) => steps.has(referenceHead(ref)) || referenceHead(ref) === pipeline;
  const out: { where: string; ref: string }[] = [];
  for (const s of spec.steps) {
    for (const ref of [...(s.inputs ?? []), ...(s.triggers ?? [])]) {
      if (!known(ref)) out.push({ where: `step "${s.name}"`, ref });
    }
  }
  for (const ref of spec.output?.steps ?? []) if (!known(ref)) out.push({ where: 'output', ref });
  return out;
}
