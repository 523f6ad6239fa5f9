// Semantic diff of two parsed values: key order is ignored and list items with a natural key
// (`name`, `mountPath`, `containerPort`, ...) are matched by that key, never by position.

export interface FieldChange {
  /** Dotted path; keyed list items as `[name=x]`, other list items as `[i]`, odd keys as `["a.b"]`. */
  path: string;
  op: 'add' | 'remove' | 'change';
  before?: unknown;
  after?: unknown;
}

/** Keys that identify the items of a list, tried in order; the first one every item has (uniquely) wins. */
const LIST_KEYS = ['name', 'metadata.name', 'mountPath', 'devicePath', 'containerPort', 'port', 'ip', 'type'];

/** The value of a list key in an item (`metadata.name` reads a nested field). */
export function keyOf(item: unknown, key: string): unknown {
  let v: unknown = item;
  for (const part of key.split('.')) v = isObj(v) ? v[part] : undefined;
  return v;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function diffValues(before: unknown, after: unknown, path = ''): FieldChange[] {
  const out: FieldChange[] = [];
  walk(before, after, path, out);
  return out;
}

function walk(a: unknown, b: unknown, path: string, out: FieldChange[]): void {
  if (a === b) return;
  if (a === undefined) {
    out.push({ path, op: 'add', after: b });
    return;
  }
  if (b === undefined) {
    out.push({ path, op: 'remove', before: a });
    return;
  }
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) walk(a[k], b[k], joinKey(path, k), out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const key = listKey(a, b);
    if (key) {
      const am = new Map(a.map((x) => [String(keyOf(x, key)), x]));
      const bm = new Map(b.map((x) => [String(keyOf(x, key)), x]));
      // Items in after-order, then removed items in before-order: deterministic and readable.
      const ids = [...bm.keys(), ...[...am.keys()].filter((k) => !bm.has(k))];
      for (const id of ids) walk(am.get(id), bm.get(id), `${path}[${key}=${id}]`, out);
      return;
    }
    if (a.every(isScalar) && b.every(isScalar)) {
      if (!equal(a, b)) out.push({ path, op: 'change', before: a, after: b });
      return;
    }
    for (let i = 0; i < Math.max(a.length, b.length); i++) walk(a[i], b[i], `${path}[${i}]`, out);
    return;
  }
  if (!equal(a, b)) out.push({ path, op: 'change', before: a, after: b });
}

function listKey(a: unknown[], b: unknown[]): string | undefined {
  if (a.length + b.length === 0) return undefined;
  const items = [...a, ...b];
  if (!items.every(isObj)) return undefined;
  return LIST_KEYS.find((k) => {
    const ok = (list: unknown[]) => {
      const seen = new Set<unknown>();
      for (const x of list) {
        const v = keyOf(x, k);
        if ((typeof v !== 'string' && typeof v !== 'number') || seen.has(v)) return false;
        seen.add(v);
      }
      return true;
    };
    return ok(a) && ok(b);
  });
}

const isScalar = (v: unknown) => v === null || typeof v !== 'object';

/** Deep equality of parsed JSON/YAML values, ignoring map key order. */
export function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => k in b && equal(a[k], b[k]));
  }
  return false;
}

export function joinKey(path: string, key: string): string {
  if (/^[A-Za-z_$][\w$-]*$/.test(key)) return path ? `${path}.${key}` : key;
  return `${path}[${JSON.stringify(key)}]`;
}
