// Cross-object references among mlops objects: pipeline steps name models, experiments name
// models or pipelines, models pin servers, servers name server configs.

import { EXTERNAL_REFERENCES_ANNOTATION } from '../../spec/annotations.ts';
import { isMlopsApiVersion } from '../../spec/objects.ts';
import { indexReferences, type ReferenceRole } from '../../spec/reference-index.ts';
import { referenceHead } from '../../spec/references.ts';
import type { ExperimentSpec, KubeObject, PipelineSpec } from '../../spec/types.ts';
import type { CheckedObject, Finding } from './findings.ts';

/** Server configs that a Seldon Core 2 installation ships; a Server may name them without declaring them. */
export const INSTALLED_SERVER_CONFIGS = ['mlserver', 'triton'];

const isMlops = (o: KubeObject, kind: string) => o.kind === kind && isMlopsApiVersion(o.apiVersion);

export interface ReferenceOptions {
  /** Names (`name`, `Kind/name` or `Kind/namespace/name`) declared elsewhere. */
  external?: string[];
}

/** The words before a missing object's kind in a finding, for references that must resolve in the set. */
const NEEDS: Partial<Record<ReferenceRole, string>> = {
  step: 'step runs',
  'external-input': 'input reads',
  'external-trigger': 'input reads',
  candidate: 'candidate',
  mirror: 'mirror',
  server: 'pinned to',
  explainer: 'explains',
  llm: 'uses',
};

export function checkReferences(objects: CheckedObject[], options: ReferenceOptions = {}): Finding[] {
  const findings: Finding[] = [];
  const names = new Map<string, Set<string>>(); // kind → "ns/name"
  const anyNs = new Map<string, Set<string>>(); // kind → name
  for (const { object: o } of objects) {
    if (!isMlopsApiVersion(o.apiVersion)) continue;
    const ns = o.metadata.namespace ?? '';
    if (!names.has(o.kind)) names.set(o.kind, new Set());
    if (!anyNs.has(o.kind)) anyNs.set(o.kind, new Set());
    names.get(o.kind)?.add(`${ns}/${o.metadata.name}`);
    anyNs.get(o.kind)?.add(o.metadata.name);
  }
  const index = indexReferences(objects.map((m) => m.object));
  const globalExternal = new Set(options.external ?? []);

  for (const m of objects) {
    const o = m.object;
    if (!isMlopsApiVersion(o.apiVersion)) continue;
    const ns = o.metadata.namespace ?? '';
    const local = new Set(
      (o.metadata.annotations?.[EXTERNAL_REFERENCES_ANNOTATION] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
    const isExternal = (kind: string, name: string) =>
      [name, `${kind}/${name}`, `${kind}/${ns}/${name}`].some((k) => local.has(k) || globalExternal.has(k));
    const report = (path: string, check: string, message: string): void => {
      findings.push({
        file: m.file,
        object: `${o.kind} ${ns ? `${ns}/` : ''}${o.metadata.name}`,
        path,
        rule: 'reference',
        check,
        message,
      });
    };
    const serverConfigKnown = (name: string) =>
      anyNs.get('ServerConfig')?.has(name) ||
      INSTALLED_SERVER_CONFIGS.includes(name) ||
      isExternal('ServerConfig', name);
    const need = (kind: string, name: unknown, path: string, what: string): void => {
      if (typeof name !== 'string' || name === '') return;
      if (names.get(kind)?.has(`${ns}/${name}`) || isExternal(kind, name)) return;
      report(
        path,
        `missing-${kind.toLowerCase()}`,
        `${what} ${kind} "${name}" is not in this set${ns ? ` (namespace ${ns})` : ''}; add it, or mark it declared elsewhere with --external ${kind}/${name} or the ${EXTERNAL_REFERENCES_ANNOTATION} annotation`,
      );
    };
    for (const r of index.get(o) ?? []) {
      const what = NEEDS[r.role];
      if (what && (r.kind !== 'Model' || !r.role.startsWith('external-')))
        need(r.kind, r.name, r.field, what);
      // Seldon looks server configs up in its own namespace, so any namespace of the set will do.
      if (r.role === 'server-config' && !serverConfigKnown(r.name)) {
        report(
          r.field,
          'missing-serverconfig',
          `ServerConfig "${r.name}" is not in this set nor shipped with Seldon Core 2 (${INSTALLED_SERVER_CONFIGS.join(', ')}); add it or mark it with --external ServerConfig/${r.name}`,
        );
      }
    }
    const spec = (o.spec ?? {}) as Record<string, unknown>;
    if (isMlops(o, 'Pipeline')) {
      for (const f of unknownSteps(o.metadata.name, spec as unknown as PipelineSpec))
        report(f.path, 'unknown-step', f.message);
    }
    if (isMlops(o, 'Experiment')) {
      const e = spec as unknown as ExperimentSpec;
      const cands = Array.isArray(e.candidates) ? e.candidates : [];
      if (e.default !== undefined && !cands.some((c) => c.name === e.default)) {
        report(
          'spec.default',
          'default-not-candidate',
          `default "${e.default}" is not one of the candidates (${cands.map((c) => c.name).join(', ')})`,
        );
      }
    }
  }
  return findings;
}

/** Step inputs, triggers and output steps must name a step of the pipeline or the pipeline itself. */
function unknownSteps(name: string, p: PipelineSpec): Array<{ path: string; message: string }> {
  const steps = Array.isArray(p.steps) ? p.steps : [];
  const stepNames = new Set(steps.map((s) => s.name));
  const known = (ref: unknown) =>
    typeof ref !== 'string' || referenceHead(ref) === name || stepNames.has(referenceHead(ref));
  const out: Array<{ path: string; message: string }> = [];
  steps.forEach((s, i) => {
    for (const field of ['inputs', 'triggers'] as const) {
      const refs: unknown[] = Array.isArray(s[field]) ? (s[field] as unknown[]) : [];
      refs.forEach((ref, j) => {
        if (!known(ref))
          out.push({
            path: `spec.steps[${i}].${field}[${j}]`,
            message: `"${ref}" names no step of this pipeline (steps: ${[...stepNames].join(', ')})`,
          });
      });
    }
  });
  (p.output?.steps ?? []).forEach((ref, j) => {
    if (!known(String(ref)))
      out.push({ path: `spec.output.steps[${j}]`, message: `"${ref}" names no step of this pipeline` });
  });
  return out;
}
