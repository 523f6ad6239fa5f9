import { unknownStepReferences } from '../../spec/references.ts';
import type { Condition, ExperimentResource, PipelineResource, StatusBase } from '../../spec/types.ts';
import type { ModelView } from './models.ts';

/**
 * Condition reasons the scheduler writes on Pipelines and Experiments when something they depend
 * on is not ready. Health checks (Argo CD, Flux) read a reason ending in `Failed`, `InvalidSpec`
 * or `ModelNotFound` as needing a change by someone, any other not-ready reason as progressing.
 */
export const NOT_READY = {
  /** A step or candidate names a model no resource declares. */
  missing: 'ModelNotFound',
  /** A model failed to load, cannot be scheduled or has an invalid spec. */
  failed: 'ModelFailed',
  /** A model is being placed or loaded (or is scaled to zero). */
  progressing: 'ModelsProgressing',
} as const;
type Blocked = keyof typeof NOT_READY;

/** Why the named model cannot serve, or undefined when it can (it has a route). */
export function modelBlocker(
  name: string,
  models: ReadonlyMap<string, ModelView>,
  routed: Pick<ReadonlySet<string>, 'has'>,
): { kind: Blocked; detail: string } | undefined {
  if (routed.has(name)) return undefined;
  const m = models.get(name);
  if (!m?.resource || m.deleted) return { kind: 'missing', detail: `model "${name}" is not declared` };
  if (m.invalid) return { kind: 'failed', detail: `model "${name}" has an invalid spec: ${m.invalid}` };
  const state = m.latest?.state ?? 'ModelProgressing';
  const why = m.latest?.reason ? ` (${m.latest.reason})` : '';
  const failed = state === 'ModelFailed' || state === 'ScheduleFailed';
  return { kind: failed ? 'failed' : 'progressing', detail: `model "${name}" is ${state}${why}` };
}

/** The most serious of the blockers: missing before failed before progressing. */
function worst(kinds: Blocked[]): Blocked {
  return kinds.includes('missing') ? 'missing' : kinds.includes('failed') ? 'failed' : 'progressing';
}

const condition = (type: string, ok: boolean, reason: string, message: string): Condition => ({
  type,
  status: ok ? 'True' : 'False',
  reason,
  ...(message ? { message } : {}),
});

/** The aggregate `Ready`: true when every other condition is, else the first false one's why. */
function aggregate(conditions: Condition[]): Condition {
  const down = conditions.find((c) => c.status !== 'True');
  return down ? { ...down, type: 'Ready' } : { type: 'Ready', status: 'True', reason: 'Ready' };
}

/**
 * `.status` of a Pipeline as Seldon's CRD defines it: `ModelsReady` (every step's model serves,
 * else which step waits on which model and why), `PipelineReady` and `PipelineGwReady` (the
 * scheduler accepted the pipeline and published it to the dataflow engine and the gateways), and
 * the aggregate `Ready` carrying the first false condition's reason and message.
 */
export function pipelineStatusOf(
  p: PipelineResource,
  models: ReadonlyMap<string, ModelView>,
  routed: Pick<ReadonlySet<string>, 'has'>,
): StatusBase {
  const blocked: { kind: Blocked; text: string }[] = [];
  for (const s of p.spec.steps) {
    const b = modelBlocker(s.name, models, routed);
    if (b) blocked.push({ kind: b.kind, text: `step "${s.name}": ${b.detail}` });
  }
  const invalid = unknownStepReferences(p.metadata.name, p.spec).map(
    ({ where, ref }) => `${where} reads "${ref}", which names no step of this pipeline`,
  );
  const accepted = invalid.length === 0;
  const published = accepted ? 'PipelineReady' : 'InvalidSpec';
  const conditions = [
    condition('PipelineReady', accepted, published, invalid.join('; ')),
    condition('PipelineGwReady', accepted, published, invalid.join('; ')),
    condition(
      'ModelsReady',
      blocked.length === 0,
      blocked.length ? NOT_READY[worst(blocked.map((b) => b.kind))] : 'ModelsAvailable',
      blocked.map((b) => b.text).join('; '),
    ),
  ];
  const status: StatusBase = { conditions: [...conditions, aggregate(conditions)] };
  if (p.metadata.generation !== undefined) status.observedGeneration = p.metadata.generation;
  return status;
}

/**
 * `.status` of an Experiment: `CandidatesReady` (and `MirrorReady` when it mirrors) name each
 * candidate that cannot serve and why; `ExperimentReady` and `Ready` aggregate them. A model
 * candidate serves when it has a route, a pipeline candidate when its own `Ready` is true
 * (`pipelines`: each declared pipeline's `Ready` condition).
 */
export function experimentStatusOf(
  e: ExperimentResource,
  models: ReadonlyMap<string, ModelView>,
  routed: Pick<ReadonlySet<string>, 'has'>,
  pipelines: ReadonlyMap<string, Condition>,
): StatusBase {
  const blocker = (name: string): { kind: Blocked; text: string } | undefined => {
    if (e.spec.resourceType !== 'pipeline') {
      const b = modelBlocker(name, models, routed);
      return b && { kind: b.kind, text: b.detail };
    }
    const ready = pipelines.get(name);
    if (!ready) return { kind: 'missing', text: `pipeline "${name}" is not declared` };
    if (ready.status === 'True') return undefined;
    const kind: Blocked =
      ready.reason === NOT_READY.missing
        ? 'missing'
        : ready.reason === NOT_READY.progressing
          ? 'progressing'
          : 'failed';
    return { kind, text: `pipeline "${name}" is not ready: ${ready.message ?? ready.reason}` };
  };
  const check = (type: string, names: string[]): Condition => {
    const blocked = names.map(blocker).filter((b) => b !== undefined);
    const reason = blocked.length ? NOT_READY[worst(blocked.map((b) => b.kind))] : type;
    return condition(type, blocked.length === 0, reason, blocked.map((b) => b.text).join('; '));
  };
  const parts = [
    check(
      'CandidatesReady',
      e.spec.candidates.map((c) => c.name),
    ),
  ];
  if (e.spec.mirror) parts.push(check('MirrorReady', [e.spec.mirror.name]));
  const ready = aggregate(parts);
  const status: StatusBase = { conditions: [{ ...ready, type: 'ExperimentReady' }, ...parts, ready] };
  if (e.metadata.generation !== undefined) status.observedGeneration = e.metadata.generation;
  return status;
}

/** The status of every pipeline and experiment, from the models' state and their routes. */
export function dependentStatus(
  view: {
    readonly models: ReadonlyMap<string, ModelView>;
    readonly pipelines: ReadonlyMap<string, PipelineResource>;
    readonly experiments: ReadonlyMap<string, ExperimentResource>;
  },
  routed: Pick<ReadonlySet<string>, 'has'>,
): { pipelines: Map<string, StatusBase>; experiments: Map<string, StatusBase> } {
  const pipelines = new Map<string, StatusBase>();
  const ready = new Map<string, Condition>();
  for (const [name, p] of view.pipelines) {
    const s = pipelineStatusOf(p, view.models, routed);
    pipelines.set(name, s);
    const c = s.conditions?.find((x) => x.type === 'Ready');
    if (c) ready.set(name, c);
  }
  const experiments = new Map<string, StatusBase>();
  for (const [name, e] of view.experiments) {
    experiments.set(name, experimentStatusOf(e, view.models, routed, ready));
  }
  return { pipelines, experiments };
}
