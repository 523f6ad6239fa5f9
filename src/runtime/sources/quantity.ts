// Memory quantities as the runtime reads them from custom resources: whole bytes, rounded up.
import { parseQuantity } from '../../spec/quantity.ts';

/** Bytes in `value` (rounded up), or an error naming the expected syntax. */
export function quantityBytes(value: string | number | undefined): number {
  if (value === undefined || value === '') return 0;
  const bytes = typeof value === 'number' ? value : parseQuantity(value.trim());
  if (bytes === undefined)
    throw new Error(
      `invalid quantity "${value}": use a number with an optional suffix such as 512Mi or 1.5Gi`,
    );
  if (!Number.isFinite(bytes) || bytes < 0) throw new Error(`invalid quantity ${value}: must be >= 0`);
  return Math.ceil(bytes);
}
