/** Field checks shared by several constructs; each records findings, none throws. */
import type { IConstruct } from 'constructs';
import { addProblem, type Problem } from './validation.ts';

const INT32_MAX = 2 ** 31 - 1;

/** A whole number in [min, INT32_MAX] (the CRDs store these as int32), when set. */
export function checkCount(scope: IConstruct, field: string, value: number | undefined, min = 0): boolean {
  if (value === undefined) return true;
  if (Number.isInteger(value) && value >= min && value <= INT32_MAX) return true;
  addProblem(scope, {
    field,
    value,
    message: 'must be a whole number',
    fix: `use an integer from ${min} to ${INT32_MAX}`,
  });
  return false;
}

export interface Scaling {
  replicas?: number;
  minReplicas?: number;
  maxReplicas?: number;
}

/** Seldon's scaling bounds: minReplicas ≤ replicas ≤ maxReplicas (a max of 0 means no bound). */
export function scalingProblems(s: Scaling): Problem[] {
  const { replicas, minReplicas: min, maxReplicas: max } = s;
  const problems: Problem[] = [];
  if (min !== undefined && max !== undefined && max > 0 && min > max) {
    problems.push({
      field: 'minReplicas',
      value: min,
      message: `is above maxReplicas (${max})`,
      fix: `use a minReplicas of at most ${max}, or raise maxReplicas`,
    });
  }
  if (replicas !== undefined && min !== undefined && replicas < min) {
    problems.push({
      field: 'replicas',
      value: replicas,
      message: `is below minReplicas (${min})`,
      fix: `use at least ${min} replicas, or lower minReplicas`,
    });
  }
  if (replicas !== undefined && max !== undefined && max > 0 && replicas > max) {
    problems.push({
      field: 'replicas',
      value: replicas,
      message: `is above maxReplicas (${max})`,
      fix: `use at most ${max} replicas, or raise maxReplicas`,
    });
  }
  return problems;
}

export function checkScaling(scope: IConstruct, s: Scaling): void {
  const ok = [
    checkCount(scope, 'replicas', s.replicas),
    checkCount(scope, 'minReplicas', s.minReplicas),
    checkCount(scope, 'maxReplicas', s.maxReplicas),
  ].every(Boolean);
  if (ok) for (const p of scalingProblems(s)) addProblem(scope, p);
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
