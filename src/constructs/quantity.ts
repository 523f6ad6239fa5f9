/** Memory as the constructs take it: quantity strings checked to whole bytes, or cdk8s `Size` values. */
import { Size, SizeRoundingBehavior } from 'cdk8s';
import { BINARY_SUFFIXES as BINARY, parseQuantityExact as parse, parseQuantity } from '../spec/quantity.ts';

/** Memory as a cdk8s `Size` or a Kubernetes quantity string such as `100Ki` or `1.5Gi`. */
export type Memory = Size | string;

export const QUANTITY_HINT = 'a number with an optional suffix, e.g. 512Mi, 1.5Gi, 500M or 1e9';

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
