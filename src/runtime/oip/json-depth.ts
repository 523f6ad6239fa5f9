/**
 * How deep an inference body's JSON may nest. OIP bodies are shallow: a request is an object of
 * tensors whose data nests once per dimension, so 100 levels leave room for any tensor a server
 * takes (numpy stops at 64 dimensions) while refusing bodies built to exhaust a recursive walker,
 * here or in the model server behind (Python's json gives up near 1000 levels).
 */
export const MAX_JSON_DEPTH = 100;

/**
 * Whether `value` nests arrays or objects more than `limit` levels deep (a scalar is 0, `[]` is
 * 1). Walks with an explicit stack, so no nesting can exhaust the call stack, and stops at the
 * first level too deep.
 */
export function jsonDepthExceeds(value: unknown, limit = MAX_JSON_DEPTH): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const stack: { items: unknown[]; next: number }[] = [{ items: childrenOf(value), next: 0 }];
  while (stack.length > 0) {
    if (stack.length > limit) return true;
    const top = stack[stack.length - 1];
    if (top.next === top.items.length) {
      stack.pop();
      continue;
    }
    const child = top.items[top.next++];
    if (typeof child === 'object' && child !== null) stack.push({ items: childrenOf(child), next: 0 });
  }
  return false;
}

function childrenOf(value: object): unknown[] {
  return Array.isArray(value) ? value : Object.values(value);
}
