/**
 * Which objects each Seldon object refers to, by kind and name, with the field that says so.
 * Built once over a set of objects; review checks, import and the pipeline graph read it instead
 * of walking specs themselves. Tolerant of malformed specs: what cannot be read is skipped.
 */
import { type PipelineRef, parsePipelineRef, referenceHead } from './references.ts';
import type { ExperimentSpec, KubeObject, MlopsKind, ModelSpec, PipelineSpec, ServerSpec } from './types.ts';

export type ReferenceRole =
  /** Model → Server it is pinned to. */
  | 'server'
  /** Model → Model or Pipeline its explainer / LLM module calls. */
  | 'explainer'
  | 'llm'
  /** Server → ServerConfig (looked up in Seldon's own namespace, not the Server's). */
  | 'server-config'
  /** Pipeline → Model a step runs. */
  | 'step'
  /** Pipeline → Pipeline (and Model, for `p.step.s`) another pipeline's data comes from. */
  | 'external-input'
  | 'external-trigger'
  | 'external-tensor-map'
  /** Experiment → Model or Pipeline. */
  | 'candidate'
  | 'mirror';

export interface ObjectReference {
  readonly kind: MlopsKind;
  readonly name: string;
  /** Path of the referring field, e.g. `spec.input.externalInputs[0]`. */
  readonly field: string;
  readonly role: ReferenceRole;
  /** For external pipeline references: the reference as written, and parsed (undefined when malformed). */
  readonly text?: string;
  readonly data?: PipelineRef;
}

export type ReferenceIndex = ReadonlyMap<KubeObject, readonly ObjectReference[]>;

/** References of every Seldon object in `objects` (other objects are left out). */
export function indexReferences(objects: readonly KubeObject[]): ReferenceIndex {
  const index = new Map<KubeObject, readonly ObjectReference[]>();
  for (const o of objects) {
    if (o.apiVersion.startsWith('mlops.seldon.io/')) index.set(o, objectReferences(o));
  }
  return index;
}

/** What one object refers to, in field order. */
export function objectReferences(o: KubeObject): ObjectReference[] {
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  switch (o.kind) {
    case 'Model':
      return modelReferences(spec as unknown as ModelSpec);
    case 'Server':
      return serverReferences(spec as unknown as ServerSpec);
    case 'Pipeline':
      return pipelineReferences(spec as unknown as PipelineSpec);
    case 'Experiment':
      return experimentReferences(spec as unknown as ExperimentSpec);
    default:
      return [];
  }
}

const list = <T>(value: T[] | undefined): T[] => (Array.isArray(value) ? value : []);

function entry(kind: MlopsKind, name: unknown, field: string, role: ReferenceRole): ObjectReference[] {
  return typeof name === 'string' && name !== '' ? [{ kind, name, field, role }] : [];
}

function modelReferences(spec: ModelSpec): ObjectReference[] {
  return [
    ...entry('Server', spec.server, 'spec.server', 'server'),
    ...(['explainer', 'llm'] as const).flatMap((role) => [
      ...entry('Model', spec[role]?.modelRef, `spec.${role}.modelRef`, role),
      ...entry('Pipeline', spec[role]?.pipelineRef, `spec.${role}.pipelineRef`, role),
    ]),
  ];
}

function serverReferences(spec: ServerSpec): ObjectReference[] {
  // Even an empty name is kept: no ServerConfig is called that, and review says so.
  const name = spec.serverConfig;
  return typeof name === 'string'
    ? [{ kind: 'ServerConfig', name, field: 'spec.serverConfig', role: 'server-config' }]
    : [];
}

/** Steps' models and other pipelines' data; references between steps stay inside the pipeline. */
export function pipelineReferences(spec: PipelineSpec): ObjectReference[] {
  const out = list(spec.steps).flatMap((s, i) => entry('Model', s?.name, `spec.steps[${i}].name`, 'step'));
  const external = (ref: unknown, field: string, role: ReferenceRole) => {
    const text = String(ref);
    const data = parsePipelineRef(text);
    for (const e of entry('Pipeline', referenceHead(text), field, role)) out.push({ ...e, text, data });
    if (data?.step !== undefined) out.push(...entry('Model', data.step, field, role));
  };
  const input = spec.input;
  list(input?.externalInputs).forEach((r, j) => {
    external(r, `spec.input.externalInputs[${j}]`, 'external-input');
  });
  list(input?.externalTriggers).forEach((r, j) => {
    external(r, `spec.input.externalTriggers[${j}]`, 'external-trigger');
  });
  for (const k of Object.keys(input?.tensorMap ?? {}))
    external(k, `spec.input.tensorMap["${k}"]`, 'external-tensor-map');
  return out;
}

function experimentReferences(spec: ExperimentSpec): ObjectReference[] {
  const kind = spec.resourceType === 'pipeline' ? 'Pipeline' : 'Model';
  return [
    ...list(spec.candidates).flatMap((c, i) =>
      entry(kind, c?.name, `spec.candidates[${i}].name`, 'candidate'),
    ),
    ...entry(kind, spec.mirror?.name, 'spec.mirror.name', 'mirror'),
  ];
}
