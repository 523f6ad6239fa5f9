// Quantities compared by value, so that the API server's canonical spelling (`1024Mi` read back
// as `1Gi`) is not reported as a change.
import { parseQuantity as parseText } from '../spec/quantity.ts';

/** The value of a quantity (a number, or text such as `100Mi`), or undefined when it is not one. */
export function parseQuantity(q: unknown): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) ? q : undefined;
  return typeof q === 'string' ? parseText(q.trim()) : undefined;
}

/** Two spellings of the same quantity (relative tolerance for float rounding). */
export function sameQuantity(a: unknown, b: unknown): boolean {
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  if (x === undefined || y === undefined) return false;
  return x === y || Math.abs(x - y) <= Math.abs(x) * 1e-12;
}
