/**
 * References between resources, as objects: `model`, `model.outputs('t')`,
 * `pipeline.inputs('t')`, `pipeline.step(model).outputs('t')`. They render in Seldon's syntax
 * through the spec layer, which also parses it back.
 */
import { type Direction, renderPipelineRef, renderStepRef } from '../spec/references.ts';
import type { IMlopsResource, IModel, IPipeline, ITensorRef, PipelineStepRef } from './interfaces.ts';

export type { Direction } from '../spec/references.ts';
export { tensorNameProblem } from '../spec/references.ts';

/** The inputs or outputs of a model, a pipeline or a pipeline's step, optionally one tensor. */
export class TensorRef implements ITensorRef {
  constructor(
    /** The model or pipeline whose data this is. */
    readonly owner: IModel | IPipeline,
    readonly direction: Direction,
    /** One tensor, or undefined for all of them. */
    readonly tensor?: string,
    /** For a pipeline owner: one of its steps. */
    readonly step?: IModel,
  ) {}

  /** Seldon's reference syntax. */
  render(): string {
    const at = { direction: this.direction, tensor: this.tensor };
    if (this.step) return renderPipelineRef({ pipeline: this.owner.name, step: this.step.name, ...at });
    return renderStepRef({ name: this.owner.name, ...at });
  }

  toString(): string {
    return this.render();
  }
}

/** A reference as step inputs/triggers and pipeline outputs accept it: a model means its outputs. */
export type StepReference = IModel | ITensorRef;

/** A reference to another pipeline: the pipeline (its outputs), one of its steps, or a tensor. */
export type ExternalReference = IPipeline | PipelineStepRef | ITensorRef;

/** One tensor renamed on its way into a step (or pipeline output). */
export interface TensorMapping {
  /** The tensor, e.g. `model.outputs('OUTPUT0')`. */
  readonly from: ITensorRef;
  /** Its new name, e.g. `INPUT0`. */
  readonly to: string;
}

export function isTensorRef(value: unknown): value is ITensorRef {
  return value instanceof TensorRef;
}

export function isStepRef(value: unknown): value is PipelineStepRef {
  return typeof value === 'object' && value !== null && 'pipeline' in value && 'model' in value;
}

/** Seldon's syntax for any reference. */
export function renderReference(ref: StepReference | ExternalReference): string {
  if (isTensorRef(ref)) return ref.render();
  if (isStepRef(ref)) return renderPipelineRef({ pipeline: ref.pipeline.name, step: ref.model.name });
  return (ref as IMlopsResource).name;
}
