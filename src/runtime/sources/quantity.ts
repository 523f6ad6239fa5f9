// Kubernetes quantities as the runtime reads them from custom resources (bytes for memory).
const PATTERN = /^(\d+(?:\.\d+)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([kMGTPE])|[eE](\d+))?$/;
const BINARY: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL: Record<string, number> = { k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/** Bytes in `value` (rounded up), or an error naming the expected syntax. */
export function quantityBytes(value: string | number | undefined): number {
  if (value === undefined || value === '') return 0;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`invalid quantity ${value}: must be >= 0`);
    return Math.ceil(value);
  }
  const m = PATTERN.exec(value.trim());
  if (!m)
    throw new Error(
      `invalid quantity "${value}": use a number with an optional suffix such as 512Mi or 1.5Gi`,
    );
  const [, num, bin, dec, exp] = m;
  const base = Number(num);
  const factor = bin ? 1024 ** BINARY[bin] : dec ? 10 ** DECIMAL[dec] : exp ? 10 ** Number(exp) : 1;
  return Math.ceil(base * factor);
}
