// Compares two sets of manifests by identity and produces the review model every renderer uses.
import { LAST_APPLIED_ANNOTATION } from '../../spec/annotations.ts';
import type { KubeObject } from '../../spec/types.ts';
import { checkSizes } from '../../synth/check/size.ts';
import { compareIds, describeId, type Identity } from '../identity.ts';
import { indexManifests, type Manifest } from '../manifests.ts';
import { domainNotes } from './domain.ts';
import { diffValues, type FieldChange } from './field-diff.ts';
import { maskObject, showMasked } from './secrets.ts';

export type ObjectStatus = 'added' | 'removed' | 'changed' | 'replaced';

export interface ObjectDiff {
  id: Identity;
  status: ObjectStatus;
  /** Secret values and credentials already masked (in `changes` and `notes` too). */
  before?: KubeObject;
  after?: KubeObject;
  beforeFile?: string;
  afterFile?: string;
  changes: FieldChange[];
  /** Domain lines (traffic shifts, replicas, placement, pipeline edges). */
  notes: string[];
  /** Risks a reviewer must not miss (renames, immutable fields, stateful deletions). */
  warnings: string[];
}

export interface DiffSummary {
  added: number;
  changed: number;
  removed: number;
  replaced: number;
  unchanged: number;
}

export interface DiffResult {
  summary: DiffSummary;
  objects: ObjectDiff[];
}

/** Fields the API server or controllers own; never part of the desired state. */
const SERVER_METADATA = [
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'selfLink',
];

export function withoutServerFields(o: KubeObject): KubeObject {
  const { status: _status, ...rest } = o;
  const metadata: Record<string, unknown> = { ...o.metadata };
  for (const k of SERVER_METADATA) delete metadata[k];
  const ann = metadata.annotations as Record<string, string> | undefined;
  if (ann && LAST_APPLIED_ANNOTATION in ann) {
    const { [LAST_APPLIED_ANNOTATION]: _la, ...others } = ann;
    if (Object.keys(others).length) metadata.annotations = others;
    else delete metadata.annotations;
  }
  return { ...rest, metadata } as unknown as KubeObject;
}

/** Changes under these paths cannot be applied in place: the object is deleted and re-created. */
const IMMUTABLE: Record<string, RegExp> = {
  'apps/StatefulSet': /^spec\.(selector|volumeClaimTemplates|serviceName|podManagementPolicy)\b/,
  'apps/Deployment': /^spec\.selector\b/,
  'apps/DaemonSet': /^spec\.selector\b/,
  '/Service': /^spec\.(clusterIP|clusterIPs)\b/,
  'batch/Job': /^spec\.(selector|template)\b/,
  '/PersistentVolumeClaim': /^spec\.(storageClassName|accessModes|volumeName|selector)\b/,
};
const STATEFUL = new Set(['/PersistentVolumeClaim', 'apps/StatefulSet', '/PersistentVolume', '/Namespace']);

export function compareManifests(base: Manifest[], head: Manifest[]): DiffResult {
  const bi = indexManifests(base, 'base');
  const hi = indexManifests(head, 'head');
  const objects: ObjectDiff[] = [];
  let unchanged = 0;
  for (const [key, h] of hi) {
    const b = bi.get(key);
    if (!b) {
      objects.push(entry(h.id, 'added', undefined, h));
      continue;
    }
    const bo = withoutServerFields(b.object);
    const ho = withoutServerFields(h.object);
    const changes = diffValues(bo, ho, '', showMasked(ho));
    if (changes.length === 0) {
      unchanged++;
      continue;
    }
    const d = entry(h.id, 'changed', b, h, changes);
    const immutable = IMMUTABLE[`${h.id.group}/${h.id.kind}`];
    const immutableData =
      (ho as { immutable?: boolean }).immutable === true && ['ConfigMap', 'Secret'].includes(h.id.kind);
    const hits = changes.filter(
      (c) =>
        (immutable?.test(c.path) ?? false) ||
        (immutableData && /^(data|binaryData|stringData)\b/.test(c.path)),
    );
    if (hits.length) {
      d.status = 'replaced';
      d.warnings.push(
        `replacement: ${[...new Set(hits.map((c) => c.path))].join(', ')} cannot change in place; the object is deleted and re-created`,
      );
    }
    if (b.object.apiVersion !== h.object.apiVersion)
      d.warnings.push(`apiVersion ${b.object.apiVersion} → ${h.object.apiVersion}`);
    objects.push(d);
  }
  for (const [key, b] of bi) if (!hi.has(key)) objects.push(entry(b.id, 'removed', b, undefined));
  markRenames(objects);
  for (const d of objects) {
    if (d.status === 'removed' && STATEFUL.has(`${d.id.group}/${d.id.kind}`)) {
      d.warnings.push(`deleting a ${d.id.kind} can lose data`);
    }
  }
  objects.sort((x, y) => compareIds(x.id, y.id));
  const count = (s: ObjectStatus) => objects.filter((o) => o.status === s).length;
  return {
    summary: {
      added: count('added'),
      changed: count('changed'),
      removed: count('removed'),
      replaced: count('replaced'),
      unchanged,
    },
    objects,
  };
}

function entry(
  id: Identity,
  status: ObjectStatus,
  b: Manifest | undefined,
  h: Manifest | undefined,
  changes: FieldChange[] = [],
): ObjectDiff {
  // Domain notes read the masked objects: a storage URI's password must not reach a note either.
  const before = b ? maskObject(withoutServerFields(b.object)) : undefined;
  const after = h ? maskObject(withoutServerFields(h.object)) : undefined;
  const d: ObjectDiff = { id, status, changes, notes: domainNotes(before, after, changes), warnings: [] };
  if (before) d.before = before;
  if (after) d.after = after;
  if (b) d.beforeFile = b.file;
  if (h) d.afterFile = h.file;
  // Sizes from the unmasked object: the API server would refuse it.
  if (h)
    for (const f of checkSizes([{ object: h.object, file: h.file }])) d.warnings.push(`data ${f.message}`);
  return d;
}

/** Everything but the name (and namespace is part of the bucket): a renamed object has the same fingerprint. */
function fingerprint(o: KubeObject): string {
  const { name: _n, ...meta } = o.metadata;
  return stableJson({ ...o, metadata: meta });
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** A removed and an added object of the same kind and namespace with identical content: a rename. */
function markRenames(objects: ObjectDiff[]): void {
  const removed = new Map<string, ObjectDiff[]>();
  for (const d of objects) {
    if (d.status !== 'removed' || !d.before) continue;
    const k = `${d.id.group}|${d.id.kind}|${d.id.namespace}|${fingerprint(d.before)}`;
    removed.set(k, [...(removed.get(k) ?? []), d]);
  }
  if (removed.size === 0) return;
  for (const d of objects) {
    if (d.status !== 'added' || !d.after) continue;
    const k = `${d.id.group}|${d.id.kind}|${d.id.namespace}|${fingerprint(d.after)}`;
    const old = removed.get(k)?.shift();
    if (!old) continue;
    const warning = `rename ${describeId(old.id)} → ${d.id.name}: applied as delete + create (the old object and what depends on its name go away)`;
    d.warnings.push(warning);
    old.warnings.push(warning);
  }
}

export const hasDifferences = (r: DiffResult) => r.objects.length > 0;
