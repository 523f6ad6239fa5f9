/**
 * The inverse of `Pipeline`'s render: the props and `addStep` calls that synthesize a given
 * Pipeline spec, with Seldon's reference syntax turned back into references.
 */
import { parsePipelineRef, parseStepRef } from '../spec/references.ts';
import type { PipelineSpec, PipelineStepSpec } from '../spec/types.ts';
import {
  enumMember,
  list,
  literal,
  method,
  optional,
  type Props,
  type PropValue,
  props,
  ref,
} from './prop-values.ts';

export interface PipelineFromSpec {
  readonly props: Props;
  /** One `addStep(model, options)` per step, in order; options empty when the step has none. */
  readonly steps: ReadonlyArray<{ readonly model: PropValue; readonly options: Props }>;
}

/** `name` is the pipeline's own name (a bare reference to it means its inputs). */
export function pipelinePropsFromSpec(name: string, spec: PipelineSpec): PipelineFromSpec {
  const steps = new Set(spec.steps.map((s) => s.name));
  const stepRef = (r: string): PropValue => {
    const parsed = parseStepRef(r) ?? { name: r };
    const self = parsed.name === name && !steps.has(name);
    const owner = ref(self ? 'Pipeline' : 'Model', parsed.name);
    if (!parsed.direction) return self ? method(owner, 'inputs') : owner;
    return method(owner, parsed.direction, tensorArgs(parsed.tensor));
  };
  const input = spec.input;
  const output = spec.output;
  return {
    props: props([
      [
        'input',
        input &&
          props([
            ['externalInputs', list((input.externalInputs ?? []).map(externalRef))],
            ['externalTriggers', input.externalTriggers && list(input.externalTriggers.map(externalRef))],
            ['joinType', enumMember('JoinType', input.joinType)],
            ['triggersJoinType', enumMember('JoinType', input.triggersJoinType)],
            ['joinWindowMs', optional(input.joinWindowMs)],
            ['tensorMap', tensorMap(input.tensorMap, externalRef)],
          ]),
      ],
      [
        'output',
        output &&
          props([
            ['steps', list((output.steps ?? []).map(stepRef))],
            ['stepsJoin', enumMember('JoinType', output.stepsJoin)],
            ['joinWindowMs', optional(output.joinWindowMs)],
            ['tensorMap', tensorMap(output.tensorMap, stepRef)],
          ]),
      ],
      ['allowCycles', optional(spec.allowCycles)],
      ['maxStepRevisits', optional(spec.maxStepRevisits)],
      ['cleanTopicsOnDelete', optional(spec.dataflow?.cleanTopicsOnDelete)],
    ]),
    steps: spec.steps.map((st) => ({ model: ref('Model', st.name), options: stepOptions(st, stepRef) })),
  };
}

function stepOptions(st: PipelineStepSpec, stepRef: (r: string) => PropValue): Props {
  return props([
    ['inputs', st.inputs && list(st.inputs.map(stepRef))],
    ['triggers', st.triggers && list(st.triggers.map(stepRef))],
    ['tensorMap', tensorMap(st.tensorMap, stepRef)],
    ['inputsJoinType', enumMember('JoinType', st.inputsJoinType)],
    ['triggersJoinType', enumMember('JoinType', st.triggersJoinType)],
    ['joinWindowMs', optional(st.joinWindowMs)],
    ['batch', optional(st.batch)],
  ]);
}

function externalRef(r: string): PropValue {
  const parsed = parsePipelineRef(r) ?? { pipeline: r };
  const pipeline = ref('Pipeline', parsed.pipeline);
  const base = parsed.step ? method(pipeline, 'step', [ref('Model', parsed.step)]) : pipeline;
  if (!parsed.direction) return base;
  return method(base, parsed.direction, tensorArgs(parsed.tensor));
}

const tensorArgs = (tensor: string | undefined) => (tensor === undefined ? [] : [literal(tensor)]);

function tensorMap(
  map: Record<string, string> | undefined,
  reference: (r: string) => PropValue,
): PropValue | undefined {
  if (map === undefined) return undefined;
  return list(
    Object.entries(map).map(([from, to]) =>
      props([
        ['from', reference(from)],
        ['to', literal(to)],
      ]),
    ),
  );
}
