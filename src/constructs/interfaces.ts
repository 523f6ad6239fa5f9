/**
 * What one construct needs to know about another. `fromName()` results implement these too, so
 * objects declared elsewhere can be referenced wherever a constructed one can.
 */
import type { IConstruct } from 'constructs';
import type { Direction } from '../spec/references.ts';

/** Any of our custom resources. */
export interface IMlopsResource extends IConstruct {
  /** `metadata.name` of the resource. */
  readonly name: string;
  /** Namespace the resource lives in (from its chart); undefined when not inside a chart. */
  readonly namespace: string | undefined;
  /** True for `fromName()` references: declared elsewhere, trusted by validation. */
  readonly external: boolean;
}

/** The inputs or outputs of a model, a pipeline or a pipeline's step, optionally one tensor. */
export interface ITensorRef {
  /** The model or pipeline whose data this is. */
  readonly owner: IModel | IPipeline;
  readonly direction: Direction;
  /** One tensor, or undefined for all of them. */
  readonly tensor?: string;
  /** For a pipeline owner: one of its steps. */
  readonly step?: IModel;
  /** Seldon's reference syntax. */
  render(): string;
}

/** A model: a `Model`, or `Model.fromName(...)` for one declared elsewhere. */
export interface IModel extends IMlopsResource {
  readonly kind: 'Model';
  /** The model's input tensors (`name.inputs`), or one of them (`name.inputs.tensor`). */
  inputs(tensor?: string): ITensorRef;
  /** The model's output tensors (`name.outputs`), or one of them (`name.outputs.tensor`). */
  outputs(tensor?: string): ITensorRef;
}

/** A pipeline: a `Pipeline`, or `Pipeline.fromName(...)` for one declared elsewhere. */
export interface IPipeline extends IMlopsResource {
  readonly kind: 'Pipeline';
  /** The pipeline's inputs (`name.inputs[.tensor]`). */
  inputs(tensor?: string): ITensorRef;
  /** The pipeline's outputs (`name.outputs[.tensor]`). */
  outputs(tensor?: string): ITensorRef;
  /** One step of this pipeline, for other pipelines' `input.externalInputs` (`name.step.model`). */
  step(model: IModel): PipelineStepRef;
}

/** A step of some pipeline, as seen from another pipeline. */
export interface PipelineStepRef {
  readonly pipeline: IPipeline;
  readonly model: IModel;
  inputs(tensor?: string): ITensorRef;
  outputs(tensor?: string): ITensorRef;
}

/**
 * A server configuration: `ServerConfig.MLSERVER`, `ServerConfig.TRITON`, a `ServerConfig`, or
 * `ServerConfig.fromName(...)`. Placement checks read what it tells.
 */
export interface IServerConfig {
  readonly name: string;
  /** True for `fromName()` configurations: installed elsewhere, not by this app or Seldon. */
  readonly external?: boolean;
  /** Capabilities its servers advertise; undefined when unknown (then trusted). */
  readonly capabilities: readonly string[] | undefined;
  /** Name of the container that serves inference (carries the memory request). */
  readonly inferenceContainer: string | undefined;
  /** Memory of one server replica when the Server does not say; undefined when unknown. */
  readonly defaultMemoryBytes: number | undefined;
  /** Over-commit percentage when the Server does not say; undefined when unknown. */
  readonly defaultOverCommitPercentage: number | undefined;
}

/** A server: a `Server`, or `Server.fromName(...)` for one declared elsewhere. */
export interface IServer extends IMlopsResource {
  readonly kind: 'Server';
  /** Capabilities the server advertises; undefined when unknown (then trusted). */
  readonly capabilities: readonly string[] | undefined;
  /** Memory of one replica in bytes; undefined when unknown. */
  readonly memoryBytes: number | undefined;
  /** Share of extra memory models may over-commit, in percent; undefined when unknown. */
  readonly overCommitPercentage: number | undefined;
  /** Most replicas the server can run (a model has at most one replica per server replica); undefined when unknown. */
  readonly maxReplicaCount: number | undefined;
}
