import { effectiveRequirements } from '../../spec/rules.ts';
import type { ModelResource } from '../../spec/types.ts';
import type { ModelDefinition } from '../protocol/control.ts';
import { quantityBytes } from '../sources/quantity.ts';

/** Scaling bounds of a Model or Server (Seldon's defaults: replicas 1, or min when only min is set). */
export interface Scaling {
  replicas: number;
  minReplicas: number;
  /** 0 = unbounded. */
  maxReplicas: number;
}

export function scalingOf(spec: { replicas?: number; minReplicas?: number; maxReplicas?: number }): Scaling {
  const minReplicas = spec.minReplicas ?? 0;
  const replicas = spec.replicas ?? (minReplicas > 0 ? minReplicas : 1);
  return { replicas, minReplicas, maxReplicas: spec.maxReplicas ?? 0 };
}

/**
 * The versioned part of a Model (what makes a new version when it changes): everything but the
 * scaling fields. Throws with the field name when a value cannot be used.
 */
export function definitionOf(model: ModelResource, version: number): ModelDefinition {
  const s = model.spec;
  const where = `Model ${model.metadata.namespace ? `${model.metadata.namespace}/` : ''}${model.metadata.name}`;
  if (!s || typeof s.storageUri !== 'string' || s.storageUri === '') {
    throw new Error(`${where}: spec.storageUri is required (the URI of the model artifact folder)`);
  }
  let memoryBytes: number;
  try {
    memoryBytes = quantityBytes(s.memory);
  } catch (err) {
    throw new Error(`${where}: spec.memory: ${(err as Error).message}`);
  }
  // Explainers need the alibi-explain runtime (Seldon's explainer filter, folded into requirements).
  const requirements = effectiveRequirements(s);
  return {
    name: model.metadata.name,
    namespace: model.metadata.namespace ?? '',
    version,
    storageUri: s.storageUri,
    artifactVersion: s.artifactVersion ?? 0,
    requirements,
    memoryBytes,
    server: s.server ?? '',
    parameters: (s.parameters ?? []).map((p) => ({ name: p.name, value: p.value })),
    secretName: s.secretName ?? '',
    explainer: s.explainer
      ? {
          type: s.explainer.type ?? '',
          modelRef: s.explainer.modelRef ?? '',
          pipelineRef: s.explainer.pipelineRef ?? '',
        }
      : undefined,
    llm: s.llm ? { modelRef: s.llm.modelRef ?? '', pipelineRef: s.llm.pipelineRef ?? '' } : undefined,
  };
}

/** Same model apart from its version number (so no new version is needed). */
export function sameDefinition(a: ModelDefinition, b: ModelDefinition): boolean {
  return canonical(a) === canonical(b);
}

function canonical(d: ModelDefinition): string {
  return JSON.stringify([
    d.storageUri,
    d.artifactVersion || 0,
    [...d.requirements].sort(),
    d.memoryBytes,
    d.server || '',
    (d.parameters ?? []).map((p) => [p.name, p.value]),
    d.secretName || '',
    d.explainer ? [d.explainer.type, d.explainer.modelRef, d.explainer.pipelineRef] : null,
    d.llm ? [d.llm.modelRef, d.llm.pipelineRef] : null,
  ]);
}
