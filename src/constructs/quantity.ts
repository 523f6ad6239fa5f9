/**
 * Kubernetes quantities (`100Ki`, `1.5G`, `1e3`): strict parsing to bytes, and rendering of
 * cdk8s `Size` values.
 */
import { Size, SizeRoundingBehavior } from 'cdk8s';

/** Memory as a cdk8s `Size` or a Kubernetes quantity string such as `100Ki` or `1.5Gi`. */
export type Memory = Size | string;

const GRAMMAR =
  /^([+-]?)((\d+(?:\.\d*)?)|(\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([numkMGTPE])|[eE]([+-]?(?:\d+(?:\.\d*)?|\.\d+)))?$/;

const BINARY: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

export const QUANTITY_HINT = 'a number with an optional suffix, e.g. 512Mi, 1.5Gi, 500M or 1e9';

/** A parsed quantity: `value` in the base unit; `whole` when it is an exact integer. */
interface ParsedQuantity {
  value: number;
  whole: boolean;
}

/** Parses with exact decimal arithmetic so `0.29M` is recognised as a whole number of bytes. */
function parse(text: string): ParsedQuantity | undefined {
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
  if (binary) digits *= 1024n ** BigInt(BINARY[binary]);
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
  return parse(text)?.value;
}

/** Why `text` is not a usable amount of memory, or undefined. */
export function memoryProblem(text: string): string | undefined {
  const q = parse(text);
  if (!q) return 'is not a Kubernetes quantity';
  if (q.value <= 0) return 'must be more than zero bytes';
  if (!q.whole) return `is ${q.value} bytes, not a whole number of bytes`;
  if (!Number.isSafeInteger(q.value)) return 'is too large';
  return undefined;
}

/** Bytes of a memory value; undefined when it does not parse. */
export function memoryBytes(memory: Memory): number | undefined {
  if (memory instanceof Size) return memory.toKibibytes({ rounding: SizeRoundingBehavior.NONE }) * 1024;
  return parseQuantity(memory);
}

/** The quantity string to write: the user's own text, or the largest exact binary unit of a Size. */
export function renderMemory(memory: Memory): string {
  if (!(memory instanceof Size)) return memory;
  const bytes = memoryBytes(memory) ?? 0;
  for (const [suffix, power] of Object.entries(BINARY).reverse()) {
    const amount = bytes / 1024 ** power;
    if (Number.isInteger(amount)) return `${amount}${suffix}`;
  }
  return String(Math.ceil(bytes));
}

/** Human-readable bytes for messages (binary units). */
export function formatBytes(bytes: number): string {
  for (const [suffix, power] of Object.entries(BINARY).reverse()) {
    const amount = bytes / 1024 ** power;
    if (amount >= 1) return `${Number(amount.toFixed(2))}${suffix}`;
  }
  return `${bytes} bytes`;
}
