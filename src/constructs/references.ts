/**
 * References between resources, rendered in Seldon's syntax: `model`, `model.outputs.t`,
 * `pipeline.inputs.t`, `pipeline.step.model.outputs.t`.
 */
import type { IMlopsResource, IModel, IPipeline, PipelineStepRef } from './interfaces.ts';

export type Direction = 'inputs' | 'outputs';

/** The inputs or outputs of a model, a pipeline or a pipeline's step, optionally one tensor. */
export class TensorRef {
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
    const head = this.step ? `${this.owner.name}.step.${this.step.name}` : this.owner.name;
    return `${head}.${this.direction}${this.tensor === undefined ? '' : `.${this.tensor}`}`;
  }

  toString(): string {
    return this.render();
  }
}

/** A reference as step inputs/triggers and pipeline outputs accept it: a model means its outputs. */
export type StepReference = IModel | TensorRef;

/** A reference to another pipeline: the pipeline (its outputs), one of its steps, or a tensor. */
export type ExternalReference = IPipeline | PipelineStepRef | TensorRef;

/** One tensor renamed on its way into a step (or pipeline output). */
export interface TensorMapping {
  /** The tensor, e.g. `model.outputs('OUTPUT0')`. */
  readonly from: TensorRef;
  /** Its new name, e.g. `INPUT0`. */
  readonly to: string;
}

export function isTensorRef(value: unknown): value is TensorRef {
  return value instanceof TensorRef;
}

export function isStepRef(value: unknown): value is PipelineStepRef {
  return typeof value === 'object' && value !== null && 'pipeline' in value && 'model' in value;
}

/** Seldon's syntax for any reference. */
export function renderReference(ref: StepReference | ExternalReference): string {
  if (isTensorRef(ref)) return ref.render();
  if (isStepRef(ref)) return `${ref.pipeline.name}.step.${ref.model.name}`;
  return (ref as IMlopsResource).name;
}

/** Why a tensor name cannot be used in a reference, or undefined. */
export function tensorNameProblem(tensor: string): string | undefined {
  if (tensor.length === 0) return 'is empty';
  if (tensor.includes('.')) return 'contains a dot, which Seldon reads as a separator';
  if (/\s/.test(tensor)) return 'contains white space';
  return undefined;
}
