// Cross-object references among mlops objects: pipeline steps name models, experiments name
// models or pipelines, models pin servers, servers name server configs.
import type { ExperimentSpec, KubeObject, ModelSpec, PipelineSpec, ServerSpec } from '../../spec/types.ts';
import type { Manifest } from '../manifests.ts';
import type { Finding } from './findings.ts';

/** Annotation listing names declared outside this set (comma-separated, `name` or `Kind/name`). */
export const EXTERNAL_ANNOTATION = 'review.cdk8s-mlops.io/external';

/** Server configs that a Seldon Core 2 installation ships; a Server may name them without declaring them. */
export const INSTALLED_SERVER_CONFIGS = ['mlserver', 'triton'];

const isMlops = (o: KubeObject, kind: string) =>
  o.kind === kind && o.apiVersion.startsWith('mlops.seldon.io/');

export interface ReferenceOptions {
  /** Names (`name`, `Kind/name` or `Kind/namespace/name`) declared elsewhere. */
  external?: string[];
}

export function checkReferences(manifests: Manifest[], options: ReferenceOptions = {}): Finding[] {
  const findings: Finding[] = [];
  const names = new Map<string, Set<string>>(); // kind → "ns/name"
  const anyNs = new Map<string, Set<string>>(); // kind → name
  for (const { object: o } of manifests) {
    if (!o.apiVersion.startsWith('mlops.seldon.io/')) continue;
    const ns = o.metadata.namespace ?? '';
    if (!names.has(o.kind)) names.set(o.kind, new Set());
    if (!anyNs.has(o.kind)) anyNs.set(o.kind, new Set());
    names.get(o.kind)?.add(`${ns}/${o.metadata.name}`);
    anyNs.get(o.kind)?.add(o.metadata.name);
  }
  const globalExternal = new Set(options.external ?? []);

  for (const m of manifests) {
    const o = m.object;
    if (!o.apiVersion.startsWith('mlops.seldon.io/')) continue;
    const ns = o.metadata.namespace ?? '';
    const local = new Set(
      (o.metadata.annotations?.[EXTERNAL_ANNOTATION] ?? '')
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
    const need = (kind: string, name: unknown, path: string, what: string): void => {
      if (typeof name !== 'string' || name === '') return;
      if (names.get(kind)?.has(`${ns}/${name}`) || isExternal(kind, name)) return;
      report(
        path,
        `missing-${kind.toLowerCase()}`,
        `${what} ${kind} "${name}" is not in this set${ns ? ` (namespace ${ns})` : ''}; add it, or mark it declared elsewhere with --external ${kind}/${name} or the ${EXTERNAL_ANNOTATION} annotation`,
      );
    };
    const spec = (o.spec ?? {}) as Record<string, unknown>;

    if (isMlops(o, 'Pipeline')) {
      const p = spec as unknown as PipelineSpec;
      const steps = Array.isArray(p.steps) ? p.steps : [];
      const stepNames = new Set(steps.map((s) => s.name));
      steps.forEach((s, i) => {
        need('Model', s.name, `spec.steps[${i}].name`, 'step runs');
        const refs = (list: unknown, field: string) =>
          (Array.isArray(list) ? list : []).forEach((ref: unknown, j: number) => {
            if (typeof ref !== 'string') return;
            const head = ref.split('.')[0];
            if (head !== o.metadata.name && !stepNames.has(head)) {
              report(
                `spec.steps[${i}].${field}[${j}]`,
                'unknown-step',
                `"${ref}" names no step of this pipeline (steps: ${[...stepNames].join(', ')})`,
              );
            }
          });
        refs(s.inputs, 'inputs');
        refs(s.triggers, 'triggers');
      });
      (p.output?.steps ?? []).forEach((ref, j) => {
        const head = String(ref).split('.')[0];
        if (!stepNames.has(head) && head !== o.metadata.name) {
          report(`spec.output.steps[${j}]`, 'unknown-step', `"${ref}" names no step of this pipeline`);
        }
      });
      for (const field of ['externalInputs', 'externalTriggers'] as const) {
        for (const [j, ref] of (p.input?.[field] ?? []).entries()) {
          need('Pipeline', String(ref).split('.')[0], `spec.input.${field}[${j}]`, 'input reads');
        }
      }
    }

    if (isMlops(o, 'Experiment')) {
      const e = spec as unknown as ExperimentSpec;
      const kind = e.resourceType === 'pipeline' ? 'Pipeline' : 'Model';
      const cands = Array.isArray(e.candidates) ? e.candidates : [];
      for (const [i, c] of cands.entries()) need(kind, c.name, `spec.candidates[${i}].name`, 'candidate');
      if (e.mirror) need(kind, e.mirror.name, 'spec.mirror.name', 'mirror');
      if (e.default !== undefined && !cands.some((c) => c.name === e.default)) {
        report(
          'spec.default',
          'default-not-candidate',
          `default "${e.default}" is not one of the candidates (${cands.map((c) => c.name).join(', ')})`,
        );
      }
    }

    if (isMlops(o, 'Model')) {
      const md = spec as unknown as ModelSpec;
      need('Server', md.server, 'spec.server', 'pinned to');
      need('Model', md.explainer?.modelRef, 'spec.explainer.modelRef', 'explains');
      need('Pipeline', md.explainer?.pipelineRef, 'spec.explainer.pipelineRef', 'explains');
      need('Model', md.llm?.modelRef, 'spec.llm.modelRef', 'uses');
      need('Pipeline', md.llm?.pipelineRef, 'spec.llm.pipelineRef', 'uses');
    }

    if (isMlops(o, 'Server')) {
      // Seldon looks server configs up in its own namespace, so any namespace of the set will do.
      const sc = (spec as unknown as ServerSpec).serverConfig;
      if (
        typeof sc === 'string' &&
        !anyNs.get('ServerConfig')?.has(sc) &&
        !INSTALLED_SERVER_CONFIGS.includes(sc) &&
        !isExternal('ServerConfig', sc)
      ) {
        report(
          'spec.serverConfig',
          'missing-serverconfig',
          `ServerConfig "${sc}" is not in this set nor shipped with Seldon Core 2 (${INSTALLED_SERVER_CONFIGS.join(', ')}); add it or mark it with --external ServerConfig/${sc}`,
        );
      }
    }
  }
  return findings;
}
