export * from './constructs/crds.ts';
export * from './constructs/environment.ts';
export * from './constructs/experiment.ts';
export type * from './constructs/interfaces.ts';
export * from './constructs/model.ts';
export * from './constructs/pipeline.ts';
// The construct enum (values 'inner' | 'outer' | 'any') wins over the plain spec type of the same name.
export { JoinType } from './constructs/pipeline.ts';
export type { ContainerSpec, EnvVar, PodSpec } from './constructs/pod-spec.ts';
export type { Memory } from './constructs/quantity.ts';
export * from './constructs/references.ts';
export * from './constructs/runtime.ts';
export * from './constructs/server.ts';
export * from './constructs/server-config.ts';
export * from './constructs/validation.ts';
export { EXTERNAL_REFERENCES_ANNOTATION } from './spec/annotations.ts';
export * from './spec/crd-check.ts';
export * from './spec/crd-schemas.ts';
export { isMlopsObject } from './spec/objects.ts';
export { parseQuantity } from './spec/quantity.ts';
export * from './spec/types.ts';
export * from './synth/app.ts';
export {
  SYNTH_TARGETS,
  SynthError,
  type SynthOptions,
  type SynthTarget,
  synthesizeApp,
  synthesizeObjects,
} from './synth/synthesize.ts';
