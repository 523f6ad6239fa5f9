/** Field checks shared by several constructs; each records findings, none throws. */
import type { IConstruct } from 'constructs';
import { type BoundsViolation, boundsViolations, type ReplicaBounds } from '../spec/rules.ts';
import { addProblem, type Problem } from './validation.ts';

const INT32_MAX = 2 ** 31 - 1;

/** A whole number in [min, INT32_MAX] (the CRDs store these as int32), when set. */
export function checkCount(scope: IConstruct, field: string, value: number | undefined, min = 0): boolean {
  if (value === undefined) return true;
  if (Number.isInteger(value) && value >= min && value <= INT32_MAX) return true;
  addProblem(scope, {
    field,
    value,
    message: Number.isInteger(value) ? `is outside ${min} to ${INT32_MAX}` : 'must be a whole number',
    fix: `use an integer from ${min} to ${INT32_MAX}`,
  });
  return false;
}

/** A violation of Seldon's scaling bounds as a finding. */
function boundsProblem(v: BoundsViolation): Problem {
  switch (v.kind) {
    case 'min-above-max':
      return {
        field: 'minReplicas',
        value: v.min,
        message: `is above maxReplicas (${v.max})`,
        fix: `use a minReplicas of at most ${v.max}, or raise maxReplicas`,
      };
    case 'below-min':
      return {
        field: 'replicas',
        value: v.replicas,
        message: `is below minReplicas (${v.min})`,
        fix: `use at least ${v.min} replicas, or lower minReplicas`,
      };
    case 'above-max':
      return {
        field: 'replicas',
        value: v.replicas,
        message: `is above maxReplicas (${v.max})`,
        fix: `use at most ${v.max} replicas, or raise maxReplicas`,
      };
  }
}

export function checkScaling(scope: IConstruct, s: ReplicaBounds): void {
  const ok = [
    checkCount(scope, 'replicas', s.replicas),
    checkCount(scope, 'minReplicas', s.minReplicas),
    checkCount(scope, 'maxReplicas', s.maxReplicas),
  ].every(Boolean);
  if (ok) for (const v of boundsViolations(s)) addProblem(scope, boundsProblem(v));
}

/** Drops undefined values and empty arrays/objects so output carries only what was declared. */
export function compact<T extends Record<string, unknown>>(obj: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out as Partial<T>;
}
