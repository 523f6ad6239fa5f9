import { boundsViolations, type ReplicaBounds } from '../../spec/rules.ts';

/** What keeping a Model or Server within its declared [minReplicas, maxReplicas] asks for. */
export type BoundsDecision =
  | { action: 'none' }
  | { action: 'within'; replicas: number }
  | { action: 'scale'; from: number; to: number; reason: string }
  | { action: 'invalid'; reason: string };

/**
 * Only resources that declare bounds are autoscaled (min and max both 0 or unset: `none`).
 * A Server without `replicas` counts as 1, since synthesis leaves `replicas` out of an autoscaled
 * Server's StatefulSet and Kubernetes then starts one pod. A Model without `replicas` runs
 * `minReplicas` (or 1), which is always within its bounds.
 */
export function boundsDecision(kind: 'Model' | 'Server', spec: ReplicaBounds | undefined): BoundsDecision {
  const min = spec?.minReplicas ?? 0;
  const max = spec?.maxReplicas ?? 0;
  if (min === 0 && max === 0) return { action: 'none' };
  const declared = spec?.replicas;
  const from = declared ?? (kind === 'Server' ? 1 : Math.max(min, 1));
  const shown = declared === undefined ? `replicas unset (${from} pod)` : `replicas ${from}`;
  const [first] = boundsViolations({ replicas: from, minReplicas: min, maxReplicas: max });
  if (first?.kind === 'min-above-max') {
    return {
      action: 'invalid',
      reason: `minReplicas ${min} is above maxReplicas ${max}; fix spec.minReplicas or spec.maxReplicas`,
    };
  }
  if (first?.kind === 'below-min') {
    return { action: 'scale', from, to: min, reason: `${shown} is below minReplicas ${min}` };
  }
  if (first?.kind === 'above-max') {
    return { action: 'scale', from, to: max, reason: `${shown} is above maxReplicas ${max}` };
  }
  return { action: 'within', replicas: from };
}
