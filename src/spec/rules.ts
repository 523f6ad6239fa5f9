/**
 * Rules the compiler's checks and the runtime must apply alike: what a model requires of a
 * server, how much a server replica can hold, and when replicas are within their bounds.
 */

/** Seldon only places explainers on servers advertising this capability. */
export const EXPLAINER_CAPABILITY = 'alibi-explain';

/**
 * The capabilities a model needs from its server: `requirements` (trimmed) plus `modelType`,
 * plus the explainer capability for explainers; each once, in that order.
 */
export function effectiveRequirements(model: {
  requirements?: readonly string[];
  modelType?: string;
  explainer?: unknown;
}): string[] {
  const all = (model.requirements ?? []).map((r) => r.trim());
  if (model.modelType) all.push(model.modelType.trim());
  if (model.explainer) all.push(EXPLAINER_CAPABILITY);
  return [...new Set(all)];
}

/** Bytes of models a server replica may hold: its memory plus the over-commit percentage. */
export function replicaCapacityBytes(memoryBytes: number, overCommitPercentage: number): number {
  return Math.floor(memoryBytes * (1 + overCommitPercentage / 100));
}

export interface ReplicaBounds {
  replicas?: number;
  minReplicas?: number;
  /** 0 (or unset) means no upper bound. */
  maxReplicas?: number;
}

export type BoundsViolation =
  | { kind: 'min-above-max'; min: number; max: number }
  | { kind: 'below-min'; replicas: number; min: number }
  | { kind: 'above-max'; replicas: number; max: number };

/** How replicas break Seldon's scaling bounds, minReplicas ≤ replicas ≤ maxReplicas; empty when they don't. */
export function boundsViolations({
  replicas,
  minReplicas: min,
  maxReplicas: max,
}: ReplicaBounds): BoundsViolation[] {
  const bounded = max !== undefined && max > 0;
  const out: BoundsViolation[] = [];
  if (min !== undefined && bounded && min > max) out.push({ kind: 'min-above-max', min, max });
  if (replicas !== undefined && min !== undefined && replicas < min)
    out.push({ kind: 'below-min', replicas, min });
  if (replicas !== undefined && bounded && replicas > max) out.push({ kind: 'above-max', replicas, max });
  return out;
}
