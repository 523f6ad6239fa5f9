/** The inverse of `Model`'s render: the props that synthesize a given Model spec. */
import type { ModelSpec } from '../spec/types.ts';
import { literal, optional, type Props, type PropValue, props, ref } from './prop-values.ts';

export function modelPropsFromSpec(spec: ModelSpec): Props {
  // Keys in the spec's order, so a generated app reads like the manifest it came from.
  return props(
    (Object.keys(spec) as Array<keyof ModelSpec>).map((key): [string, PropValue | undefined] => {
      switch (key) {
        case 'secretName':
          return ['secret', props([['name', literal(spec.secretName)]])];
        case 'memory':
          return ['memory', literal(String(spec.memory))];
        case 'server':
          return ['server', ref('Server', spec.server as string)];
        case 'explainer':
          return [
            'explainer',
            props([
              ['type', optional(spec.explainer?.type)],
              ['target', target(spec.explainer ?? {})],
            ]),
          ];
        case 'llm':
          return ['llm', props([['target', target(spec.llm ?? {})]])];
        case 'parameters':
          return ['parameters', props((spec.parameters ?? []).map((p) => [p.name, literal(p.value)]))];
        case 'dataflow':
          return ['cleanTopicsOnDelete', optional(spec.dataflow?.cleanTopicsOnDelete)];
        default:
          return [key, literal(spec[key])];
      }
    }),
  );
}

function target(t: { modelRef?: string; pipelineRef?: string }): PropValue | undefined {
  if (t.modelRef) return ref('Model', t.modelRef);
  return t.pipelineRef ? ref('Pipeline', t.pipelineRef) : undefined;
}
