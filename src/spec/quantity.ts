/**
 * Kubernetes quantities (`100Ki`, `1.5G`, `500m`, `1e3`), the syntax of `memory` in the custom
 * resources: one parser for the constructs, the review tools and the runtime.
 */

const GRAMMAR =
  /^([+-]?)((\d+(?:\.\d*)?)|(\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([numkMGTPE])|[eE]([+-]?(?:\d+(?:\.\d*)?|\.\d+)))?$/;

export const BINARY_SUFFIXES: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/** A parsed quantity: `value` in the base unit; `whole` when it is an exact integer. */
export interface ParsedQuantity {
  value: number;
  whole: boolean;
}

/** Parses with exact decimal arithmetic so `0.29M` is recognised as a whole number of bytes. */
export function parseQuantityExact(text: string): ParsedQuantity | undefined {
  const m = GRAMMAR.exec(text);
  if (!m) return undefined;
  const [, sign, number, , , binary, decimal, exponent] = m;
  const negative = sign === '-';
  const [intPart, fracPart = ''] = number.split('.');
  let scale = -fracPart.length;
  if (decimal) scale += DECIMAL[decimal];
  if (exponent !== undefined) {
    const e = Number(exponent);
    if (!Number.isInteger(e)) {
      const value = Number(number) * 10 ** e;
      return { value: negative ? -value : value, whole: Number.isInteger(value) };
    }
    scale += e;
  }
  let digits = BigInt(`${intPart || '0'}${fracPart}`);
  if (binary) digits *= 1024n ** BigInt(BINARY_SUFFIXES[binary]);
  let whole = true;
  if (scale >= 0) digits *= 10n ** BigInt(scale);
  else {
    const divisor = 10n ** BigInt(-scale);
    whole = digits % divisor === 0n;
    if (whole) digits /= divisor;
  }
  const value = whole ? Number(digits) : Number(digits) / 10 ** -scale;
  return { value: negative ? -value : value, whole };
}

/** The value of a quantity string (in its base unit, bytes for memory), or undefined if malformed. */
export function parseQuantity(text: string): number | undefined {
  return parseQuantityExact(text)?.value;
}
