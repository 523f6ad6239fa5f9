// Reviewer-oriented lines for the changes that matter most in model serving: traffic shifts,
// replicas and memory, model placement, pipeline topology.
import { isMlopsApiVersion } from '../../spec/objects.ts';
import type { ExperimentSpec, KubeObject, ModelSpec, PipelineSpec } from '../../spec/types.ts';
import { edgeKey, type GraphEdge, pipelineGraph } from '../graph/pipeline-graph.ts';
import type { FieldChange } from './field-diff.ts';

type Spec = Record<string, unknown>;

const isMlops = (o: KubeObject | undefined, kind: string) =>
  !!o && o.kind === kind && isMlopsApiVersion(o.apiVersion);
const spec = (o: KubeObject | undefined): Spec => ((o?.spec ?? {}) as Spec) ?? {};
const show = (v: unknown) => (v === undefined ? '(unset)' : typeof v === 'string' ? v : JSON.stringify(v));

/** Domain lines for an object that exists on both sides (or only on one: `before`/`after` undefined). */
export function domainNotes(
  before: KubeObject | undefined,
  after: KubeObject | undefined,
  changes: FieldChange[],
): string[] {
  const o = after ?? before;
  if (!o) return [];
  const notes: string[] = [];
  if (isMlops(o, 'Experiment')) notes.push(...experimentNotes(before, after));
  if (isMlops(o, 'Model')) notes.push(...modelNotes(before, after));
  if (isMlops(o, 'Pipeline')) notes.push(...pipelineNotes(before, after));
  if (before && after) {
    if (['Model', 'Server'].includes(o.kind) && isMlopsApiVersion(o.apiVersion))
      notes.push(...scaleNotes(before, after, 1));
    else if (['Deployment', 'StatefulSet', 'ReplicaSet'].includes(o.kind))
      notes.push(...scaleNotes(before, after, 1));
    notes.push(...resourceNotes(changes));
  }
  return notes;
}

function percent(n: number): string {
  return `${Math.round(n * 10) / 10}%`;
}

function shares(s: Partial<ExperimentSpec> | undefined): Map<string, number> {
  const cands = Array.isArray(s?.candidates) ? s.candidates : [];
  const total = cands.reduce((t, c) => t + (Number(c.weight) || 0), 0);
  return new Map(cands.map((c) => [c.name, total > 0 ? ((Number(c.weight) || 0) * 100) / total : 0]));
}

function experimentNotes(before: KubeObject | undefined, after: KubeObject | undefined): string[] {
  const b = spec(before) as Partial<ExperimentSpec>;
  const a = spec(after) as Partial<ExperimentSpec>;
  const notes: string[] = [];
  const sb = shares(b);
  const sa = shares(a);
  if (!before) {
    notes.push(`traffic ${[...sa].map(([n, p]) => `${n} ${percent(p)}`).join(', ')}`);
  } else if (after) {
    for (const name of [...sa.keys(), ...[...sb.keys()].filter((k) => !sa.has(k))]) {
      const pb = sb.get(name);
      const pa = sa.get(name);
      if (pb !== undefined && pa !== undefined && percent(pb) === percent(pa)) continue;
      const tag = pb === undefined ? ' (new candidate)' : pa === undefined ? ' (candidate removed)' : '';
      notes.push(`traffic ${name} ${percent(pb ?? 0)} → ${percent(pa ?? 0)}${tag}`);
    }
  }
  const mb = b.mirror;
  const ma = a.mirror;
  if (before && after && (mb?.name !== ma?.name || mb?.percent !== ma?.percent)) {
    if (!ma && mb) notes.push(`mirror to ${mb.name} removed (was ${mb.percent}%)`);
    else if (ma && !mb) notes.push(`mirror ${ma.percent}% of requests to ${ma.name}`);
    else if (ma && mb && ma.name !== mb.name)
      notes.push(`mirror ${mb.name} ${mb.percent}% → ${ma.name} ${ma.percent}%`);
    else if (ma && mb) notes.push(`mirror ${ma.name} ${mb.percent}% → ${ma.percent}%`);
  } else if (!before && ma) notes.push(`mirror ${ma.percent}% of requests to ${ma.name}`);
  if (before && after && b.default !== a.default) {
    notes.push(`default (endpoint carrying the split) ${show(b.default)} → ${show(a.default)}`);
  }
  return notes;
}

function modelNotes(before: KubeObject | undefined, after: KubeObject | undefined): string[] {
  if (!before || !after) return [];
  const b = spec(before) as Partial<ModelSpec>;
  const a = spec(after) as Partial<ModelSpec>;
  const notes: string[] = [];
  if (b.server !== a.server) {
    if (!a.server) notes.push(`no longer pinned to server ${b.server}: the scheduler may move it`);
    else if (!b.server) notes.push(`pinned to server ${a.server}`);
    else notes.push(`moves from server ${b.server} → ${a.server}`);
  }
  const req = (s: Partial<ModelSpec>) =>
    [...(s.requirements ?? []), ...(s.modelType ? [s.modelType] : [])].sort();
  const rb = req(b);
  const ra = req(a);
  if (rb.join() !== ra.join()) {
    notes.push(`requirements [${rb.join(', ')}] → [${ra.join(', ')}]: may be placed on another server`);
  }
  if (String(b.memory) !== String(a.memory)) notes.push(`memory ${show(b.memory)} → ${show(a.memory)}`);
  if (b.storageUri !== a.storageUri)
    notes.push(`artifact ${show(b.storageUri)} → ${show(a.storageUri)} (new model version)`);
  return notes;
}

function scaleNotes(before: KubeObject, after: KubeObject, dflt: number): string[] {
  const b = spec(before);
  const a = spec(after);
  const notes: string[] = [];
  if (b.replicas !== a.replicas)
    notes.push(`replicas ${show(b.replicas ?? dflt)} → ${show(a.replicas ?? dflt)}`);
  for (const k of ['minReplicas', 'maxReplicas']) {
    if (b[k] !== a[k]) notes.push(`${k} ${show(b[k])} → ${show(a[k])}`);
  }
  return notes;
}

// e.g. spec.template.spec.containers[name=server].resources.limits.memory
const RESOURCE = /containers\[name=([^\]]+)\]\.resources(?:\.(limits|requests))?(?:\.(memory|cpu))?$/;

function resourceNotes(changes: FieldChange[]): string[] {
  const notes: string[] = [];
  for (const c of changes) {
    const m = RESOURCE.exec(c.path);
    if (!m) continue;
    const [, container, bound, res] = m;
    if (res) {
      const what = `container ${container} ${res} ${bound === 'limits' ? 'limit' : 'request'}`;
      notes.push(`${what} ${show(c.before)} → ${show(c.after)}`);
    } else {
      // A whole resources/limits/requests block appeared or went away.
      for (const b of bound ? [bound] : ['limits', 'requests']) {
        for (const r of ['memory', 'cpu']) {
          const pick = (v: unknown) => {
            const block = (bound ? v : (v as Spec | undefined)?.[b]) as Spec | undefined;
            return block?.[r];
          };
          const vb = pick(c.before);
          const va = pick(c.after);
          if (vb !== va)
            notes.push(
              `container ${container} ${r} ${b === 'limits' ? 'limit' : 'request'} ${show(vb)} → ${show(va)}`,
            );
        }
      }
    }
  }
  return notes;
}

function edgeText(e: GraphEdge): string {
  const name = (k: string) => (k.includes(':') ? k.slice(k.indexOf(':') + 1) : `(pipeline ${k})`);
  return `${name(e.from)} → ${name(e.to)}${e.kind === 'trigger' ? ' (trigger)' : ''}${e.label ? ` [${e.label}]` : ''}`;
}

function pipelineNotes(before: KubeObject | undefined, after: KubeObject | undefined): string[] {
  const o = (after ?? before) as KubeObject;
  const gb = before ? pipelineGraph(o.metadata.name, spec(before) as unknown as PipelineSpec) : undefined;
  const ga = after ? pipelineGraph(o.metadata.name, spec(after) as unknown as PipelineSpec) : undefined;
  const steps = (s: Spec) =>
    Array.isArray(s.steps) ? (s.steps as { name: string }[]).map((x) => x.name) : [];
  if (!before || !after || !gb || !ga) {
    const names = steps(spec(o));
    return after ? [`${names.length} step${names.length === 1 ? '' : 's'}: ${names.join(', ')}`] : [];
  }
  const notes: string[] = [];
  const sb = steps(spec(before));
  const sa = steps(spec(after));
  const joinOf = (s: string) => ga.nodes.find((n) => n.key === `step:${s}`)?.join;
  for (const s of sa) {
    if (sb.includes(s)) continue;
    const join = joinOf(s);
    notes.push(`step added: ${s}${join ? ` (${join} join)` : ''}`);
  }
  for (const s of sb) if (!sa.includes(s)) notes.push(`step removed: ${s}`);
  const eb = new Set(gb.edges.map(edgeKey));
  const ea = new Set(ga.edges.map(edgeKey));
  for (const e of ga.edges) if (!eb.has(edgeKey(e))) notes.push(`edge added: ${edgeText(e)}`);
  for (const e of gb.edges) if (!ea.has(edgeKey(e))) notes.push(`edge removed: ${edgeText(e)}`);
  const joins = (g: typeof ga) =>
    new Map(g.nodes.map((n) => [n.key, `${n.join ?? ''}/${n.triggersJoin ?? ''}`]));
  const jb = joins(gb);
  for (const n of ga.nodes) {
    const prev = jb.get(n.key);
    if (prev === undefined || prev === `${n.join ?? ''}/${n.triggersJoin ?? ''}`) continue;
    const [pj] = prev.split('/');
    if ((pj || undefined) !== n.join) notes.push(`join at ${n.label}: ${pj || 'none'} → ${n.join ?? 'none'}`);
    else
      notes.push(
        `triggers join at ${n.label}: ${prev.split('/')[1] || 'none'} → ${n.triggersJoin ?? 'none'}`,
      );
  }
  return notes;
}
