/** The inverse of `Experiment`'s render: the props that synthesize a given Experiment spec. */
import type { ExperimentSpec } from '../spec/types.ts';
import { list, literal, type Props, props, ref } from './prop-values.ts';

export function experimentPropsFromSpec(spec: ExperimentSpec): Props {
  const kind = spec.resourceType === 'pipeline' ? 'Pipeline' : 'Model';
  return props([
    [
      'candidates',
      list(
        spec.candidates.map((c) =>
          props([
            ['target', ref(kind, c.name)],
            ['weight', literal(c.weight)],
          ]),
        ),
      ),
    ],
    ['default', spec.default === undefined ? undefined : ref(kind, spec.default)],
    [
      'mirror',
      spec.mirror &&
        props([
          ['target', ref(kind, spec.mirror.name)],
          ['percent', literal(spec.mirror.percent)],
        ]),
    ],
  ]);
}
