/** A Seldon Pipeline: models chained over Kafka topics, with joins, triggers and tensor maps. */
import type { Construct } from 'constructs';
import type { PipelineSpec, PipelineStepSpec } from '../spec/types.ts';
import { compact } from './checks.ts';
import type { IModel, IPipeline, PipelineStepRef } from './interfaces.ts';
import { PIPELINE_PROPS } from './prop-tables.ts';
import { checkProps, reportProps } from './prop-types.ts';
import {
  type ExternalReference,
  isStepRef,
  isTensorRef,
  renderReference,
  type StepReference,
  type TensorMapping,
  TensorRef,
  tensorNameProblem,
} from './references.ts';
import { checkTopicLength, ExternalResource, MlopsResource } from './resource.ts';
import { addRule, type Problem } from './validation.ts';
import { linkPipeline } from './workloads/registry.ts';

/** How several sources of a step (or of the pipeline input/output) are combined. */
export enum JoinType {
  /** Wait for every source within the join window. */
  INNER = 'inner',
  /** Forward whatever arrived when the join window closes. */
  OUTER = 'outer',
  /** Forward the first source that arrives. */
  ANY = 'any',
}

export interface StepBatch {
  /**
   * Number of requests merged into one (on the first dimension).
   * @default - no batching
   */
  readonly size?: number;
  /**
   * Batch window in milliseconds (declared by Seldon, not used by its engine).
   * @default - none
   */
  readonly windowMs?: number;
  /**
   * Rolling batches (declared by Seldon, not used by its engine).
   * @default - none
   */
  readonly rolling?: boolean;
}

export interface StepOptions {
  /**
   * What feeds the step: other steps' models (their outputs), `model.outputs('t')`,
   * `model.inputs('t')` or `pipeline.inputs('t')`.
   * @default - the pipeline's inputs
   */
  readonly inputs?: StepReference[];
  /**
   * References that must produce data before the step runs (their data is not passed on).
   * @default - none
   */
  readonly triggers?: StepReference[];
  /**
   * Tensors renamed on their way in, e.g. `{ from: a.outputs('OUTPUT0'), to: 'INPUT0' }`; written
   * as `tensorMap: { "<from>": "<to>" }`.
   * @default - names kept
   */
  readonly tensorMap?: TensorMapping[];
  /**
   * How several inputs are combined.
   * @default - Seldon's default (JoinType.INNER)
   */
  readonly inputsJoinType?: JoinType;
  /**
   * How several triggers are combined.
   * @default - Seldon's default (JoinType.INNER)
   */
  readonly triggersJoinType?: JoinType;
  /**
   * How long a join waits for its sources, in milliseconds.
   * @default - the engine's default (60 000)
   */
  readonly joinWindowMs?: number;
  /**
   * Merge several requests into one before calling the model.
   * @default - no batching
   */
  readonly batch?: StepBatch;
}

export interface PipelineStep extends StepOptions {
  /** The model this step calls; the step is named after it. */
  readonly model: IModel;
}

export interface PipelineInput {
  /**
   * Data from other pipelines: `other` (its outputs), `other.outputs('t')`, `other.inputs('t')`,
   * `other.step(model)` or `other.step(model).outputs('t')`.
   */
  readonly externalInputs: ExternalReference[];
  /**
   * Other pipelines' data that must arrive before this pipeline runs.
   * @default - none
   */
  readonly externalTriggers?: ExternalReference[];
  /**
   * How several external inputs are combined.
   * @default - Seldon's default (JoinType.INNER)
   */
  readonly joinType?: JoinType;
  /**
   * How several external triggers are combined.
   * @default - Seldon's default (JoinType.INNER)
   */
  readonly triggersJoinType?: JoinType;
  /**
   * Join window in milliseconds.
   * @default - the engine's default (60 000)
   */
  readonly joinWindowMs?: number;
  /**
   * Tensors renamed on their way in.
   * @default - names kept
   */
  readonly tensorMap?: TensorMapping[];
}

export interface PipelineOutput {
  /** What the pipeline returns: steps' models (their outputs) or tensor references. */
  readonly steps: StepReference[];
  /**
   * How several outputs are combined.
   * @default - Seldon's default (JoinType.INNER)
   */
  readonly stepsJoin?: JoinType;
  /**
   * Join window in milliseconds.
   * @default - the engine's default (60 000)
   */
  readonly joinWindowMs?: number;
  /**
   * Tensors renamed on their way out.
   * @default - names kept
   */
  readonly tensorMap?: TensorMapping[];
}

export interface PipelineProps {
  /**
   * `metadata.name`: a DNS-1123 label without dots.
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * Steps; more can be added with `addStep` (needed to read `pipeline.inputs(...)`).
   * @default - none (add them with `addStep`)
   */
  readonly steps?: PipelineStep[];
  /**
   * Take data from other pipelines instead of (or besides) requests.
   * @default - the pipeline is fed by requests only
   */
  readonly input?: PipelineInput;
  /**
   * What the pipeline returns; needed for synchronous calls.
   * @default - nothing is written to the pipeline's outputs
   */
  readonly output?: PipelineOutput;
  /**
   * Allow cycles between steps.
   * @default - Seldon's default (false: cycles are errors)
   */
  readonly allowCycles?: boolean;
  /**
   * How often a message may revisit a step when cycles are allowed.
   * @default - Seldon's default (0)
   */
  readonly maxStepRevisits?: number;
  /**
   * Delete the pipeline's Kafka topics when it is deleted (`dataflow.cleanTopicsOnDelete`).
   * @default - Seldon's default (topics are kept)
   */
  readonly cleanTopicsOnDelete?: boolean;
  /**
   * Names of the pipeline's input tensors. Not written to the manifest: when declared,
   * `pipeline.inputs('t')` references are checked against them.
   * @default - any tensor name is accepted
   */
  readonly inputTensors?: string[];
}

interface DeclaresTensors {
  readonly tensors?: { readonly inputs?: readonly string[]; readonly outputs?: readonly string[] };
}

const INT32_MAX = 2 ** 31 - 1;

function countProblem(field: string, value: number | undefined): Problem[] {
  if (value === undefined || (Number.isInteger(value) && value >= 0 && value <= INT32_MAX)) return [];
  const message = Number.isInteger(value) ? `is outside 0 to ${INT32_MAX}` : 'must be a whole number';
  return [{ field, value, message, fix: `use an integer from 0 to ${INT32_MAX}` }];
}

function joinProblem(field: string, value: string | undefined): Problem[] {
  if (value === undefined || Object.values(JoinType).includes(value as JoinType)) return [];
  return [
    {
      field,
      value,
      message: 'is not a join type',
      fix: 'use JoinType.INNER, JoinType.OUTER or JoinType.ANY',
    },
  ];
}

export class Pipeline extends MlopsResource implements IPipeline {
  /** A pipeline declared elsewhere (same namespace as `scope`); trusted by validation. */
  static fromName(scope: Construct, id: string, name: string): IPipeline {
    return new ExternalPipeline(scope, id, name);
  }

  readonly kind = 'Pipeline' as const;
  private readonly props: PipelineProps;
  private readonly _steps: PipelineStep[] = [];

  constructor(scope: Construct, id: string, untypedProps: PipelineProps = {}) {
    const { props, problems } = checkProps(untypedProps, PIPELINE_PROPS);
    super(scope, id, 'Pipeline', props.name);
    reportProps(this, problems);
    this.props = props;
    for (const step of props.steps ?? []) this.addStep(step.model, step);
    const input = props.input;
    this.noteReferences(
      ...[...(input?.externalInputs ?? []), ...(input?.externalTriggers ?? [])].map(referencedPipeline),
    );
    checkTopicLength(this, 'pipeline', this.name);
    addRule(this, () => this.problems());
    // With a Runtime declaring Strimzi topics, the pipeline's are declared too.
    linkPipeline(this);
  }

  /** Steps in order. */
  get steps(): readonly PipelineStep[] {
    return this._steps;
  }

  /** Adds a step calling `model`. */
  addStep(model: IModel, options: StepOptions = {}): void {
    this._steps.push({ ...options, model });
    this.noteReferences(model);
    linkPipeline(this);
  }

  inputs(tensor?: string): TensorRef {
    return new TensorRef(this, 'inputs', tensor);
  }

  outputs(tensor?: string): TensorRef {
    return new TensorRef(this, 'outputs', tensor);
  }

  step(model: IModel): PipelineStepRef {
    return stepRef(this, model);
  }

  protected renderSpec(): Record<string, unknown> {
    const p = this.props;
    const spec: PipelineSpec = {
      steps: this._steps.map((s) => renderStep(s)),
      ...compact({
        input: p.input
          ? compact({
              externalInputs: (p.input.externalInputs ?? []).map(renderReference),
              externalTriggers: p.input.externalTriggers?.map(renderReference),
              joinType: p.input.joinType,
              triggersJoinType: p.input.triggersJoinType,
              joinWindowMs: p.input.joinWindowMs,
              tensorMap: renderTensorMap(p.input.tensorMap),
            })
          : undefined,
        output: p.output
          ? compact({
              steps: (p.output.steps ?? []).map(renderReference),
              stepsJoin: p.output.stepsJoin,
              joinWindowMs: p.output.joinWindowMs,
              tensorMap: renderTensorMap(p.output.tensorMap),
            })
          : undefined,
        allowCycles: p.allowCycles,
        maxStepRevisits: p.maxStepRevisits,
        dataflow:
          p.cleanTopicsOnDelete === undefined ? undefined : { cleanTopicsOnDelete: p.cleanTopicsOnDelete },
      }),
    };
    return spec as unknown as Record<string, unknown>;
  }

  private problems(): Problem[] {
    const p = this.props;
    const problems: Problem[] = [];
    const stepNames = this._steps.map((s) => s.model.name);
    if (this._steps.length === 0) {
      problems.push({
        field: 'steps',
        value: [],
        message: 'a pipeline needs at least one step',
        fix: 'pass `steps` or call `pipeline.addStep(model)`',
      });
    }
    const seen = new Set<string>();
    this._steps.forEach((s, i) => {
      const name = s.model.name;
      if (seen.has(name)) {
        problems.push({
          field: `steps[${i}].model`,
          value: name,
          message: `duplicate step: model "${name}" is already a step of this pipeline`,
          fix: 'use each model in one step; combine its sources with `inputs`',
        });
      }
      seen.add(name);
      if (name === this.name) {
        problems.push({
          field: `steps[${i}].model`,
          value: name,
          message:
            'a step cannot be named like its pipeline (references to it would read the pipeline inputs)',
          fix: 'rename the pipeline or the model',
        });
      }
      if (!s.model.external && s.model.namespace !== this.namespace) {
        problems.push({
          field: `steps[${i}].model`,
          value: name,
          message: `model is in namespace "${s.model.namespace}" but the pipeline is in "${this.namespace}"`,
          fix: 'use a model of the same namespace (or Model.fromName for one declared elsewhere)',
        });
      }
      const at = `steps[${i}]`;
      problems.push(
        ...(s.inputs ?? []).flatMap((r, j) => this.stepRefProblems(`${at}.inputs[${j}]`, r, stepNames)),
      );
      problems.push(
        ...(s.triggers ?? []).flatMap((r, j) => this.stepRefProblems(`${at}.triggers[${j}]`, r, stepNames)),
      );
      problems.push(...this.tensorMapProblems(`${at}.tensorMap`, s.tensorMap, stepNames));
      problems.push(...triggerOverlap(at, s));
      problems.push(...joinProblem(`${at}.inputsJoinType`, s.inputsJoinType));
      problems.push(...joinProblem(`${at}.triggersJoinType`, s.triggersJoinType));
      problems.push(...countProblem(`${at}.joinWindowMs`, s.joinWindowMs));
      problems.push(...countProblem(`${at}.batch.size`, s.batch?.size));
      problems.push(...countProblem(`${at}.batch.windowMs`, s.batch?.windowMs));
    });
    if (p.output) {
      problems.push(
        ...(p.output.steps ?? []).flatMap((r, j) => this.stepRefProblems(`output.steps[${j}]`, r, stepNames)),
      );
      problems.push(...this.tensorMapProblems('output.tensorMap', p.output.tensorMap, stepNames));
      problems.push(...joinProblem('output.stepsJoin', p.output.stepsJoin));
      problems.push(...countProblem('output.joinWindowMs', p.output.joinWindowMs));
    }
    if (p.input) problems.push(...this.inputProblems(p.input));
    if (!p.allowCycles) problems.push(...cycleProblems(this._steps));
    problems.push(...countProblem('maxStepRevisits', p.maxStepRevisits));
    if (p.allowCycles && !p.maxStepRevisits) {
      // Seldon accepts this, but the first revisit already goes to the error topic.
      problems.push({
        field: 'maxStepRevisits',
        value: p.maxStepRevisits ?? 0,
        message:
          'is 0 with allowCycles: true, so a message is sent to the error topic on its first revisit and the loop never iterates',
        fix: 'set maxStepRevisits to the most iterations a message may take (e.g. 10), or drop allowCycles',
      });
    }
    if (p.maxStepRevisits !== undefined && !p.allowCycles) {
      problems.push({
        field: 'maxStepRevisits',
        value: p.maxStepRevisits,
        message: 'has no effect unless allowCycles is true',
        fix: 'set allowCycles: true, or drop maxStepRevisits',
      });
    }
    (p.inputTensors ?? []).forEach((t, i) => {
      const problem = tensorNameProblem(t);
      if (problem)
        problems.push({ field: `inputTensors[${i}]`, value: t, message: `tensor name ${problem}` });
    });
    return problems;
  }

  /** A reference inside this pipeline: a step's model, or this pipeline's inputs. */
  private stepRefProblems(field: string, ref: StepReference, stepNames: string[]): Problem[] {
    if (!isTensorRef(ref)) return unknownStep(field, ref, stepNames);
    const problems = tensorProblems(field, ref);
    if (ref.owner.kind === 'Model') {
      problems.unshift(...unknownStep(field, ref.owner, stepNames));
      return problems;
    }
    if (ref.owner !== this || ref.direction !== 'inputs' || ref.step) {
      problems.unshift({
        field,
        value: ref.render(),
        message: "steps can only read this pipeline's own inputs, not another pipeline's data",
        fix: "take other pipelines' data through `input.externalInputs` and read `pipeline.inputs(...)`",
      });
    } else if (
      ref.tensor !== undefined &&
      this.props.inputTensors &&
      !this.props.inputTensors.includes(ref.tensor)
    ) {
      problems.push({
        field,
        value: ref.render(),
        message: `pipeline "${this.name}" declares no input tensor "${ref.tensor}"`,
        fix: `use one of: ${this.props.inputTensors.join(', ')}`,
      });
    }
    return problems;
  }

  private tensorMapProblems(field: string, map: TensorMapping[] | undefined, stepNames: string[]): Problem[] {
    const problems: Problem[] = [];
    (map ?? []).forEach((m, i) => {
      const at = `${field}[${i}]`;
      if (m.from.tensor === undefined) {
        problems.push({
          field: `${at}.from`,
          value: m.from.render(),
          message: 'a tensor map entry must name one tensor',
          fix: "name the tensor, e.g. model.outputs('OUTPUT0')",
        });
      }
      problems.push(...this.stepRefProblems(`${at}.from`, m.from, stepNames));
      const problem = tensorNameProblem(m.to);
      if (problem) problems.push({ field: `${at}.to`, value: m.to, message: `tensor name ${problem}` });
    });
    return problems;
  }

  private inputProblems(input: PipelineInput): Problem[] {
    const problems: Problem[] = [];
    const externalInputs = input.externalInputs ?? [];
    if (externalInputs.length === 0) {
      problems.push({
        field: 'input.externalInputs',
        value: [],
        message: 'an input block needs at least one external input',
        fix: 'reference another pipeline, e.g. other.outputs(), or drop `input`',
      });
    }
    const check = (field: string, ref: ExternalReference) => {
      problems.push(...this.externalRefProblems(field, ref));
    };
    externalInputs.forEach((r, i) => {
      check(`input.externalInputs[${i}]`, r);
    });
    (input.externalTriggers ?? []).forEach((r, i) => {
      check(`input.externalTriggers[${i}]`, r);
    });
    (input.tensorMap ?? []).forEach((m, i) => {
      check(`input.tensorMap[${i}].from`, m.from);
      if (m.from.tensor === undefined) {
        problems.push({
          field: `input.tensorMap[${i}].from`,
          value: m.from.render(),
          message: 'a tensor map entry must name one tensor',
          fix: "name the tensor, e.g. other.outputs('OUTPUT0')",
        });
      }
    });
    problems.push(...joinProblem('input.joinType', input.joinType));
    problems.push(...joinProblem('input.triggersJoinType', input.triggersJoinType));
    problems.push(...countProblem('input.joinWindowMs', input.joinWindowMs));
    return problems;
  }

  private externalRefProblems(field: string, ref: ExternalReference): Problem[] {
    const pipeline = isTensorRef(ref) ? ref.owner : isStepRef(ref) ? ref.pipeline : ref;
    const step = isTensorRef(ref) ? ref.step : isStepRef(ref) ? ref.model : undefined;
    if (pipeline.kind !== 'Pipeline') {
      return [
        {
          field,
          value: renderReference(ref),
          message: 'external inputs come from other pipelines, not from models',
          fix: 'reference the pipeline step instead, e.g. other.step(model).outputs()',
        },
      ];
    }
    const problems = isTensorRef(ref) ? tensorProblems(field, ref) : [];
    if (pipeline.name === this.name) {
      problems.push({
        field,
        value: renderReference(ref),
        message: 'a pipeline cannot take external input from itself',
        fix: 'reference another pipeline, or use `pipeline.inputs(...)` in a step',
      });
    } else if (!pipeline.external && pipeline.namespace !== this.namespace) {
      problems.push({
        field,
        value: renderReference(ref),
        message: `pipeline "${pipeline.name}" is in namespace "${pipeline.namespace}", not "${this.namespace}"`,
        fix: 'reference a pipeline of the same namespace',
      });
    } else if (
      step &&
      pipeline instanceof Pipeline &&
      !pipeline.steps.some((s) => s.model.name === step.name)
    ) {
      problems.push({
        field,
        value: renderReference(ref),
        message: `pipeline "${pipeline.name}" has no step "${step.name}"`,
        fix: `use one of its steps: ${pipeline.steps.map((s) => s.model.name).join(', ') || '(none)'}`,
      });
    }
    return problems;
  }
}

function unknownStep(field: string, model: IModel, stepNames: string[]): Problem[] {
  if (stepNames.includes(model.name)) return [];
  return [
    {
      field,
      value: model.name,
      message: `references model "${model.name}", which is not a step of this pipeline`,
      fix: `add a step for it, or use one of: ${stepNames.join(', ') || '(no steps)'}`,
    },
  ];
}

function tensorProblems(field: string, ref: TensorRef): Problem[] {
  if (ref.tensor === undefined) return [];
  const problem = tensorNameProblem(ref.tensor);
  if (problem) return [{ field, value: ref.render(), message: `tensor name ${problem}` }];
  const declared = (ref.step ?? ref.owner) as Partial<DeclaresTensors>;
  const names = ref.owner.kind === 'Model' || ref.step ? declared.tensors?.[ref.direction] : undefined;
  if (names && !names.includes(ref.tensor)) {
    const model = (ref.step ?? ref.owner).name;
    return [
      {
        field,
        value: ref.render(),
        message: `model "${model}" declares no ${ref.direction.slice(0, -1)} tensor "${ref.tensor}"`,
        fix: `use one of: ${names.join(', ') || '(none declared)'}`,
      },
    ];
  }
  return [];
}

/** Step names a list of references reads from (models only; pipeline inputs are shared). */
function referencedSteps(refs: StepReference[] | undefined): string[] {
  return (refs ?? []).flatMap((r) => {
    const owner = isTensorRef(r) ? r.owner : r;
    return owner.kind === 'Model' ? [owner.name] : [];
  });
}

function triggerOverlap(at: string, step: PipelineStep): Problem[] {
  const inputs = new Set(referencedSteps(step.inputs));
  return referencedSteps(step.triggers)
    .filter((name, i, all) => inputs.has(name) && all.indexOf(name) === i)
    .map((name) => ({
      field: `${at}.triggers`,
      value: name,
      message: `step "${name}" is both an input and a trigger of step "${step.model.name}"`,
      fix: 'an input already waits for its data: drop the trigger, or the input',
    }));
}

function cycleProblems(steps: readonly PipelineStep[]): Problem[] {
  const edges = new Map<string, string[]>();
  for (const s of steps) {
    const deps = [...referencedSteps(s.inputs), ...referencedSteps(s.triggers)];
    edges.set(s.model.name, [...(edges.get(s.model.name) ?? []), ...deps]);
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  let cycle: string[] | undefined;
  const visit = (node: string): void => {
    if (cycle) return;
    state.set(node, 'visiting');
    stack.push(node);
    for (const dep of edges.get(node) ?? []) {
      if (!edges.has(dep)) continue;
      if (state.get(dep) === 'visiting') {
        cycle = [...stack.slice(stack.indexOf(dep)), dep];
        return;
      }
      if (!state.has(dep)) visit(dep);
      if (cycle) return;
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const s of steps) if (!state.has(s.model.name)) visit(s.model.name);
  if (!cycle) return [];
  // Edges point from a step to what it reads, so reverse for data-flow order.
  const flow = [...cycle].reverse();
  return [
    {
      field: 'steps',
      value: flow.join(' -> '),
      message: 'the steps form a cycle',
      fix: 'break the cycle, or set allowCycles: true (with maxStepRevisits) if it is intended',
    },
  ];
}

function renderTensorMap(map: TensorMapping[] | undefined): Record<string, string> | undefined {
  if (!map?.length) return undefined;
  return Object.fromEntries(map.map((m) => [m.from.render(), m.to]));
}

function renderStep(s: PipelineStep): PipelineStepSpec {
  return {
    name: s.model.name,
    ...compact({
      inputs: s.inputs?.map(renderReference),
      triggers: s.triggers?.map(renderReference),
      tensorMap: renderTensorMap(s.tensorMap),
      // The CRD defaults it, and `steps` is an atomic list: written out, the stored object equals
      // the manifest, so re-applying changes nothing and server-side apply never conflicts on it.
      inputsJoinType: s.inputsJoinType ?? ('inner' as const),
      triggersJoinType: s.triggersJoinType,
      joinWindowMs: s.joinWindowMs,
      batch: s.batch
        ? compact({ size: s.batch.size, windowMs: s.batch.windowMs, rolling: s.batch.rolling })
        : undefined,
    }),
  };
}

function stepRef(pipeline: IPipeline, model: IModel): PipelineStepRef {
  return {
    pipeline,
    model,
    inputs: (tensor?: string) => new TensorRef(pipeline, 'inputs', tensor, model),
    outputs: (tensor?: string) => new TensorRef(pipeline, 'outputs', tensor, model),
  };
}

class ExternalPipeline extends ExternalResource implements IPipeline {
  readonly kind = 'Pipeline' as const;

  constructor(scope: Construct, id: string, name: string) {
    super(scope, id, 'Pipeline', name);
  }

  inputs(tensor?: string): TensorRef {
    return new TensorRef(this, 'inputs', tensor);
  }

  outputs(tensor?: string): TensorRef {
    return new TensorRef(this, 'outputs', tensor);
  }

  step(model: IModel): PipelineStepRef {
    return stepRef(this, model);
  }
}

/** The pipeline an external input or trigger reads from. */
function referencedPipeline(ref: ExternalReference): IPipeline | IModel {
  if (isTensorRef(ref)) return ref.owner;
  return isStepRef(ref) ? ref.pipeline : ref;
}
