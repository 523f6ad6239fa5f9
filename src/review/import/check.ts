// What `mlops import` refuses: objects that are not Seldon Core 2 kinds, names Seldon rejects,
// fields the CRDs do not declare, and references inside an object that cannot resolve.
import { validateAgainstCrd } from '../../spec/crd-check.ts';
import { isMlopsObject } from '../../spec/objects.ts';
import { wellFormedPipelineRef, wellFormedStepRef } from '../../spec/references.ts';
import { API_VERSION, type ExperimentSpec, type KubeObject, type PipelineSpec } from '../../spec/types.ts';
import { pointerToPath } from '../../synth/check/findings.ts';
import { describeId, identityKey } from '../identity.ts';
import type { Manifest } from '../manifests.ts';

export class ImportError extends Error {
  override name = 'ImportError';
  constructor(readonly problems: string[]) {
    super(
      `import refused, ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function checkImport(manifests: Manifest[]): void {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const m of manifests) {
    const o = m.object;
    const where = `${m.file}: ${describeId(m.id)}`;
    const add = (path: string, message: string) =>
      problems.push(`${where}: ${path ? `${path}: ` : ''}${message}`);
    if (!isMlopsObject(o)) {
      add(
        '',
        `${o.apiVersion} ${o.kind} is not a Seldon Core 2 kind; import takes Model, Server, ServerConfig, Pipeline and Experiment (${API_VERSION})`,
      );
      continue;
    }
    const key = identityKey(m.id);
    const prev = seen.get(key);
    if (prev) add('metadata.name', `also defined in ${prev}; keep one`);
    seen.set(key, m.file);
    if (!DNS_LABEL.test(o.metadata.name) || o.metadata.name.length > 63) {
      add(
        'metadata.name',
        `"${o.metadata.name}" is not a DNS-1123 label (lower-case letters, digits and '-', no dots or underscores); Seldon rejects it — rename it`,
      );
    }
    const ns = o.metadata.namespace;
    if (ns !== undefined && (!DNS_LABEL.test(ns) || ns.length > 63))
      add('metadata.namespace', `"${ns}" is not a DNS-1123 label`);
    const violations = validateAgainstCrd(o);
    for (const v of violations) {
      const extra = /^must NOT have additional properties '(.+)'$/.exec(v.message)?.[1];
      const path = pointerToPath(v.pointer);
      if (extra)
        add(path ? `${path}.${extra}` : extra, 'unknown field (not in the CRD); remove or rename it');
      else add(path, v.message);
    }
    if (violations.length) continue;
    if (o.kind === 'Pipeline') problems.push(...pipelineProblems(o, where));
    if (o.kind === 'Experiment') problems.push(...experimentProblems(o, where));
  }
  if (problems.length) throw new ImportError(problems);
}

function pipelineProblems(o: KubeObject, where: string): string[] {
  const spec = o.spec as PipelineSpec;
  const out: string[] = [];
  const name = o.metadata.name;
  const steps = new Set<string>();
  spec.steps.forEach((s, i) => {
    if (s.name === name)
      out.push(
        `${where}: spec.steps[${i}].name: a step may not be named like its pipeline ("${name}"); Seldon rejects it`,
      );
    if (steps.has(s.name)) out.push(`${where}: spec.steps[${i}].name: step "${s.name}" appears twice`);
    if (!DNS_LABEL.test(s.name))
      out.push(`${where}: spec.steps[${i}].name: "${s.name}" is not a model name (DNS-1123 label)`);
    steps.add(s.name);
  });
  const stepRef = (ref: string, path: string, allowSelf: boolean): void => {
    const r = wellFormedStepRef(ref);
    if (!r) {
      out.push(`${where}: ${path}: "${ref}" is not a reference (step, step.outputs or step.outputs.tensor)`);
      return;
    }
    if (r.name === name && !steps.has(name)) {
      if (!allowSelf) {
        out.push(`${where}: ${path}: "${ref}": a pipeline output cannot read the pipeline's own inputs`);
        return;
      }
      if (!r.direction) {
        out.push(`${where}: ${path}: "${ref}": write "${name}.inputs" for the pipeline's inputs`);
        return;
      }
      return;
    }
    if (!steps.has(r.name))
      out.push(
        `${where}: ${path}: "${ref}" names no step of this pipeline (steps: ${[...steps].join(', ')})`,
      );
  };
  spec.steps.forEach((s, i) => {
    for (const [j, r] of (s.inputs ?? []).entries()) stepRef(r, `spec.steps[${i}].inputs[${j}]`, true);
    for (const [j, r] of (s.triggers ?? []).entries()) stepRef(r, `spec.steps[${i}].triggers[${j}]`, true);
    for (const k of Object.keys(s.tensorMap ?? {})) {
      stepRef(k, `spec.steps[${i}].tensorMap["${k}"]`, true);
      if (!wellFormedStepRef(k)?.direction)
        out.push(
          `${where}: spec.steps[${i}].tensorMap["${k}"]: a tensor map key names a tensor, e.g. "${k}.outputs.t"`,
        );
    }
  });
  for (const [j, r] of (spec.output?.steps ?? []).entries()) stepRef(r, `spec.output.steps[${j}]`, false);
  for (const k of Object.keys(spec.output?.tensorMap ?? {}))
    stepRef(k, `spec.output.tensorMap["${k}"]`, false);
  const ext = (ref: string, path: string): void => {
    const r = wellFormedPipelineRef(ref);
    if (!r)
      out.push(
        `${where}: ${path}: "${ref}" is not a pipeline reference (p, p.outputs[.t] or p.step.s.outputs[.t])`,
      );
    else if (r.pipeline === name)
      out.push(`${where}: ${path}: "${ref}": external inputs come from other pipelines`);
  };
  if (spec.input) {
    if (!spec.input.externalInputs?.length)
      out.push(`${where}: spec.input.externalInputs: an input block needs at least one external input`);
    for (const [j, r] of (spec.input.externalInputs ?? []).entries())
      ext(r, `spec.input.externalInputs[${j}]`);
    for (const [j, r] of (spec.input.externalTriggers ?? []).entries())
      ext(r, `spec.input.externalTriggers[${j}]`);
    for (const k of Object.keys(spec.input.tensorMap ?? {})) {
      ext(k, `spec.input.tensorMap["${k}"]`);
      if (!wellFormedPipelineRef(k)?.direction)
        out.push(`${where}: spec.input.tensorMap["${k}"]: a tensor map key names a tensor`);
    }
  }
  return out;
}

function experimentProblems(o: KubeObject, where: string): string[] {
  const spec = o.spec as ExperimentSpec;
  const out: string[] = [];
  const names = spec.candidates.map((c) => c.name);
  if (spec.default !== undefined && !names.includes(spec.default)) {
    out.push(`${where}: spec.default: "${spec.default}" is not one of the candidates (${names.join(', ')})`);
  }
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i) out.push(`${where}: spec.candidates[${i}].name: "${n}" is a candidate twice`);
  });
  return out;
}
