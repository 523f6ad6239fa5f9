import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelDefinition } from '../protocol/control.ts';
import { internalModelName } from '../protocol/control.ts';
import { ArtifactError } from './artifact-errors.ts';

/**
 * The inference URI an explainer or LLM model calls its target through: the data plane (the
 * gateway), so routing, experiments and pipelines apply to its calls as to any other request.
 */
export function targetInferUri(def: ModelDefinition, gateway: string | undefined): string | undefined {
  const ref = def.explainer ?? def.llm;
  if (!ref || (!ref.modelRef && !ref.pipelineRef)) return undefined;
  const kind = def.explainer ? 'an explainer' : 'an LLM model';
  if (!gateway) {
    throw new ArtifactError(
      'invalid',
      `Model ${def.name} is ${kind} and calls ${ref.modelRef || ref.pipelineRef} through the gateway, but the agent has no gateway address. Fix: start the agent with --gateway HOST:PORT (the Runtime sets it)`,
    );
  }
  const path = ref.modelRef ? `models/${ref.modelRef}` : `pipelines/${ref.pipelineRef}`;
  return `http://${gateway}/v2/${path}/infer`;
}

/**
 * Rewrites MLServer's `model-settings.json` in a prepared model folder as Seldon's agent does:
 * the model is named after its internal name, the Model's parameters are merged into
 * `parameters.extra`, and explainers and LLM models get `infer_uri` (and `explainer_type`).
 */
export function writeModelSettings(dir: string, def: ModelDefinition, gateway: string | undefined): void {
  const path = join(dir, 'model-settings.json');
  if (!existsSync(path)) {
    throw new ArtifactError(
      'invalid',
      `Model ${def.name}: artifact ${def.storageUri} has no model-settings.json. Fix: add one beside the model files (MLServer needs one per model)`,
    );
  }
  let settings: Record<string, unknown>;
  try {
    settings = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ArtifactError(
      'invalid',
      `Model ${def.name}: artifact ${def.storageUri}: model-settings.json is not valid JSON (${(err as Error).message})`,
    );
  }
  settings.name = internalModelName(def.name, def.version);
  const parameters = { ...((settings.parameters as Record<string, unknown>) ?? {}) };
  const extra: Record<string, unknown> = {
    ...((parameters.extra as Record<string, unknown>) ?? {}),
    ...Object.fromEntries(def.parameters.map((p) => [p.name, p.value])),
  };
  const inferUri = targetInferUri(def, gateway);
  if (inferUri) extra.infer_uri = inferUri;
  if (def.explainer?.type) extra.explainer_type = def.explainer.type;
  if (Object.keys(extra).length > 0) parameters.extra = extra;
  settings.parameters = parameters;
  writeFileSync(path, `${JSON.stringify(settings, null, 2)}\n`);
}
