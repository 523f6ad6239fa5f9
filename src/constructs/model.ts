/** A Seldon Model: an artifact to load on a matching Server. */
import type { Construct } from 'constructs';
import { effectiveRequirements } from '../spec/rules.ts';
import type { ModelSpec } from '../spec/types.ts';
import { checkCount, checkScaling, compact } from './checks.ts';
import type { IModel, IPipeline, IServer } from './interfaces.ts';
import { dnsSubdomainProblem } from './names.ts';
import { checkPlacement } from './placement.ts';
import { MODEL_PROPS } from './prop-tables.ts';
import { checkProps, reportProps } from './prop-types.ts';
import { type Memory, memoryBytes, memoryProblem, QUANTITY_HINT, renderMemory } from './quantity.ts';
import { TensorRef, tensorNameProblem } from './references.ts';
import { checkTopicLength, ExternalResource, MlopsResource } from './resource.ts';
import { addProblem, type Problem } from './validation.ts';
import { linkStorageSecret } from './workloads/registry.ts';

/** A Kubernetes Secret, e.g. cdk8s-plus `Secret.fromSecretName(...)` or `{ name: 'creds' }`. */
export interface SecretReference {
  /** Name of the Secret (a DNS-1123 subdomain). */
  readonly name: string;
}

/** The model or pipeline an explainer or LLM module works on. */
export type InferenceTarget = IModel | IPipeline;

export interface ExplainerOptions {
  /**
   * Explainer type, e.g. `anchor_tabular`.
   * @default - none
   */
  readonly type?: string;
  /**
   * Model or pipeline to explain (black-box explainers call it).
   * @default - none
   */
  readonly target?: InferenceTarget;
}

export interface LlmOptions {
  /**
   * Model or pipeline the LLM module calls.
   * @default - none
   */
  readonly target?: InferenceTarget;
}

export interface PayloadLogging {
  /**
   * Percentage of payloads to log.
   * @default - Seldon's default
   */
  readonly percent?: number;
}

export interface ModelProps {
  /**
   * `metadata.name`: a DNS-1123 label without dots.
   * @default - the construct id
   */
  readonly name?: string;
  /** Where the artifact folder is (`gs://`, `s3://`, `file://`, ...). */
  readonly storageUri: string;
  /**
   * Version sub-folder to load from the artifact.
   * @default - the artifact folder itself
   */
  readonly artifactVersion?: number;
  /**
   * Model type (e.g. `sklearn`); Seldon adds it to the requirements.
   * @default - none
   */
  readonly modelType?: string;
  /**
   * Where the model's schema is.
   * @default - none
   */
  readonly schemaUri?: string;
  /**
   * Secret holding the storage credentials (an rclone config), in the model's namespace. Written
   * as `secretName`: a reference, never a credential.
   * @default - no credentials (public storage or the runtime's defaults)
   */
  readonly secret?: SecretReference;
  /**
   * Capabilities a server must advertise to host the model, e.g. `['sklearn']`.
   * @default - none
   */
  readonly requirements?: string[];
  /**
   * Memory one instance needs: a cdk8s `Size` or a Kubernetes quantity such as `100Ki`. Strings
   * are written as given, sizes as a binary quantity (`100Mi`).
   * @default - unset (Seldon counts 0 bytes)
   */
  readonly memory?: Memory;
  /**
   * Desired replicas.
   * @default - Seldon's default (1, or minReplicas when set)
   */
  readonly replicas?: number;
  /**
   * Fewest replicas to run; enables partial scheduling.
   * @default - Seldon's default (0)
   */
  readonly minReplicas?: number;
  /**
   * Most replicas to scale to.
   * @default - Seldon's default (0: no bound)
   */
  readonly maxReplicas?: number;
  /**
   * Pin the model to this server.
   * @default - any server whose capabilities match
   */
  readonly server?: IServer;
  /**
   * The model is already loaded on a server: do not schedule it.
   * @default - Seldon's default (false)
   */
  readonly preloaded?: boolean;
  /**
   * The server is reserved for this model.
   * @default - Seldon's default (false)
   */
  readonly dedicated?: boolean;
  /**
   * Log request and response payloads.
   * @default - no payload logging
   */
  readonly logger?: PayloadLogging;
  /**
   * This model is an explainer of another model or pipeline. Written as `explainer.type` and
   * `explainer.modelRef` or `explainer.pipelineRef`.
   * @default - not an explainer
   */
  readonly explainer?: ExplainerOptions;
  /**
   * This model is an LLM module calling another model or pipeline. Written as `llm.modelRef` or
   * `llm.pipelineRef`.
   * @default - not an LLM module
   */
  readonly llm?: LlmOptions;
  /**
   * Extra parameters passed when loading, written as `parameters: [{ name, value }]` in
   * insertion order.
   * @default - none
   */
  readonly parameters?: Record<string, string>;
  /**
   * Delete the model's Kafka topics when the model is deleted (`dataflow.cleanTopicsOnDelete`).
   * @default - Seldon's default (topics are kept)
   */
  readonly cleanTopicsOnDelete?: boolean;
  /**
   * Names of the model's tensors. Not written to the manifest: when declared, pipeline references
   * to tensors of this model are checked against them.
   * @default - any tensor name is accepted
   */
  readonly tensors?: { readonly inputs?: string[]; readonly outputs?: string[] };
}

/** Checks that tensor names are usable in references. */
function checkTensorNames(scope: Construct, tensors: ModelProps['tensors']): void {
  for (const dir of ['inputs', 'outputs'] as const) {
    (tensors?.[dir] ?? []).forEach((t, i) => {
      const problem = tensorNameProblem(t);
      if (problem) {
        addProblem(scope, {
          field: `tensors.${dir}[${i}]`,
          value: t,
          message: `tensor name ${problem}`,
          fix: 'use a name without dots or spaces',
        });
      }
    });
  }
}

/**
 * Explainer types MLServer's alibi-explain runtime loads (its table of explainer tags in 1.7):
 * TreeShap is an Alibi explainer that runtime does not serve.
 */
export const EXPLAINER_TYPES = [
  'anchor_image',
  'anchor_tabular',
  'anchor_text',
  'integrated_gradients',
  'kernel_shap',
] as const;

/** An explainer needs a known type and something to explain (unless a wrong-kind prop was `reported`). */
function checkExplainer(
  scope: Construct,
  explainer: ExplainerOptions | undefined,
  reported: Problem[],
): void {
  if (!explainer) return;
  const type = explainer.type;
  const known = (field: string) => reported.some((p) => p.field === field);
  if (
    !known('explainer.type') &&
    (type === undefined || !(EXPLAINER_TYPES as readonly string[]).includes(type))
  ) {
    addProblem(scope, {
      field: 'explainer.type',
      value: type,
      message:
        type === undefined
          ? 'is required for an explainer'
          : 'is not an explainer type the alibi-explain runtime knows',
      fix: `use one of ${EXPLAINER_TYPES.join(', ')}`,
    });
  }
  if (!explainer.target && !known('explainer.target')) {
    addProblem(scope, {
      field: 'explainer.target',
      message: 'is required: a black-box explainer calls the model or pipeline it explains',
      fix: 'set `target` to the Model or Pipeline to explain (written as modelRef or pipelineRef)',
    });
  }
}

export class Model extends MlopsResource implements IModel {
  /** A model declared elsewhere (same namespace as `scope`); trusted by validation. */
  static fromName(scope: Construct, id: string, name: string): IModel {
    return new ExternalModel(scope, id, name);
  }

  readonly kind = 'Model' as const;
  readonly requirements: readonly string[];
  /** Bytes of `memory`; undefined when unset or malformed. */
  readonly memoryBytes: number | undefined;
  readonly server: IServer | undefined;
  readonly minReplicas: number | undefined;
  readonly replicas: number | undefined;
  /** Declared tensor names (see `ModelProps.tensors`). */
  readonly tensors: { readonly inputs?: readonly string[]; readonly outputs?: readonly string[] };
  private readonly props: ModelProps;

  constructor(scope: Construct, id: string, untypedProps: ModelProps) {
    const { props, problems } = checkProps(untypedProps, MODEL_PROPS);
    super(scope, id, 'Model', props.name);
    reportProps(this, problems);
    this.props = props;
    this.requirements = props.requirements ?? [];
    if (props.secret?.name) linkStorageSecret(this, props.secret.name);
    this.server = props.server;
    this.replicas = props.replicas;
    this.minReplicas = props.minReplicas;
    this.tensors = props.tensors ?? {};
    this.memoryBytes = undefined;
    this.noteReferences(props.server, props.explainer?.target, props.llm?.target);

    if (!props.storageUri?.trim() && !problems.some((p) => p.field === 'storageUri')) {
      addProblem(this, {
        field: 'storageUri',
        value: props.storageUri,
        message: 'is required',
        fix: 'give the artifact location, e.g. "gs://bucket/models/iris"',
      });
    }
    if (props.memory !== undefined) {
      const text = renderMemory(props.memory);
      const problem = memoryProblem(text);
      if (problem) {
        addProblem(this, { field: 'memory', value: text, message: problem, fix: `use ${QUANTITY_HINT}` });
      } else {
        this.memoryBytes = memoryBytes(props.memory);
      }
    }
    checkCount(this, 'artifactVersion', props.artifactVersion);
    checkScaling(this, props);
    const percent = props.logger?.percent;
    if (percent !== undefined && !(Number.isInteger(percent) && percent >= 0 && percent <= 100)) {
      addProblem(this, {
        field: 'logger.percent',
        value: percent,
        message: 'is not a percentage',
        fix: 'use a whole number from 0 to 100',
      });
    }
    if (props.explainer && props.llm) {
      addProblem(this, {
        field: 'llm',
        message: 'a model cannot be both an explainer and an LLM module',
        fix: 'set either `explainer` or `llm`',
      });
    }
    checkExplainer(this, props.explainer, problems);
    const secretProblem = props.secret && dnsSubdomainProblem(props.secret.name);
    if (props.secret && secretProblem) {
      addProblem(this, {
        field: 'secret',
        value: props.secret.name,
        message: `Secret name ${secretProblem}`,
        fix: 'reference an existing Secret by its Kubernetes name',
      });
    }
    this.requirements.forEach((r, i) => {
      if (!r.trim() || r.includes(',')) {
        addProblem(this, {
          field: `requirements[${i}]`,
          value: r,
          message: 'is not a capability name',
          fix: 'use one non-empty capability per entry, without commas',
        });
      }
    });
    checkTensorNames(this, props.tensors);
    checkTopicLength(this, 'model', this.name);
    checkPlacement(this);
  }

  /**
   * Requirements as the scheduler sees them: `requirements` plus `modelType`, plus
   * `alibi-explain` for explainers (only servers with that capability may host them).
   */
  get effectiveRequirements(): string[] {
    const { modelType, explainer } = this.props;
    return effectiveRequirements({ requirements: this.requirements, modelType, explainer });
  }

  /** Replicas that must fit for the model to be available: minReplicas if set, else replicas. */
  get requiredReplicas(): number {
    return this.minReplicas || (this.replicas ?? 1);
  }

  inputs(tensor?: string): TensorRef {
    return new TensorRef(this, 'inputs', tensor);
  }

  outputs(tensor?: string): TensorRef {
    return new TensorRef(this, 'outputs', tensor);
  }

  protected renderSpec(): Record<string, unknown> {
    const p = this.props;
    const spec: ModelSpec = {
      storageUri: p.storageUri,
      ...compact({
        artifactVersion: p.artifactVersion,
        modelType: p.modelType,
        schemaUri: p.schemaUri,
        secretName: p.secret?.name,
        requirements: p.requirements ? [...p.requirements] : undefined,
        memory: p.memory === undefined ? undefined : renderMemory(p.memory),
        replicas: p.replicas,
        minReplicas: p.minReplicas,
        maxReplicas: p.maxReplicas,
        server: p.server?.name,
        preloaded: p.preloaded,
        dedicated: p.dedicated,
        logger: p.logger ? { ...compact({ percent: p.logger.percent }) } : undefined,
        explainer: p.explainer
          ? { ...compact({ type: p.explainer.type, ...targetRef(p.explainer.target) }) }
          : undefined,
        llm: p.llm ? { ...compact(targetRef(p.llm.target)) } : undefined,
        parameters: p.parameters
          ? Object.entries(p.parameters).map(([name, value]) => ({ name, value }))
          : undefined,
        dataflow:
          p.cleanTopicsOnDelete === undefined ? undefined : { cleanTopicsOnDelete: p.cleanTopicsOnDelete },
      }),
    };
    // `logger: {}` is meaningful (log payloads at the default rate), so keep it when declared.
    if (p.logger && !spec.logger) spec.logger = {};
    return spec as unknown as Record<string, unknown>;
  }
}

function targetRef(target: InferenceTarget | undefined): { modelRef?: string; pipelineRef?: string } {
  if (!target) return {};
  return target.kind === 'Model' ? { modelRef: target.name } : { pipelineRef: target.name };
}

class ExternalModel extends ExternalResource implements IModel {
  readonly kind = 'Model' as const;

  constructor(scope: Construct, id: string, name: string) {
    super(scope, id, 'Model', name);
  }

  inputs(tensor?: string): TensorRef {
    return new TensorRef(this, 'inputs', tensor);
  }

  outputs(tensor?: string): TensorRef {
    return new TensorRef(this, 'outputs', tensor);
  }
}
