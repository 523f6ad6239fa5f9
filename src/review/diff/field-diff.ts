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

/** Where a value sits on its side of a diff: its key and the map or list holding it. */
export interface ValueContext {
  path: string;
  key?: string | number;
  parent?: unknown;
}

/** Rewrites a value a change shows (to mask secrets), given its place on its side. */
export type ShowValue = (value: unknown, at: ValueContext) => unknown;

export function diffValues(before: unknown, after: unknown, path = '', show?: ShowValue): FieldChange[] {
  const out: FieldChange[] = [];
  walk(before, after, { path }, { path }, out, show ?? ((v) => v));
  return out;
}

function walk(
  a: unknown,
  b: unknown,
  at: ValueContext,
  bt: ValueContext,
  out: FieldChange[],
  show: ShowValue,
): void {
  const path = at.path;
  if (a === b) return;
  if (a === undefined) {
    out.push({ path, op: 'add', after: show(b, bt) });
    return;
  }
  if (b === undefined) {
    out.push({ path, op: 'remove', before: show(a, at) });
    return;
  }
  const change = () => out.push({ path, op: 'change', before: show(a, at), after: show(b, bt) });
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      const p = joinKey(path, k);
      walk(a[k], b[k], { path: p, key: k, parent: a }, { path: p, key: k, parent: b }, out, show);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const key = listKey(a, b);
    if (key) {
      const am = new Map(a.map((x, i) => [String(keyOf(x, key)), i]));
      const bm = new Map(b.map((x, i) => [String(keyOf(x, key)), i]));
      // Items in after-order, then removed items in before-order: deterministic and readable.
      const ids = [...bm.keys(), ...[...am.keys()].filter((k) => !bm.has(k))];
      for (const id of ids) {
        const p = `${path}[${key}=${id}]`;
        const [i, j] = [am.get(id), bm.get(id)];
        const ai = i === undefined ? undefined : a[i];
        const bj = j === undefined ? undefined : b[j];
        walk(ai, bj, { path: p, key: i, parent: a }, { path: p, key: j, parent: b }, out, show);
      }
      return;
    }
    if (a.every(isScalar) && b.every(isScalar)) {
      if (!equal(a, b)) change();
      return;
    }
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const p = `${path}[${i}]`;
      walk(a[i], b[i], { path: p, key: i, parent: a }, { path: p, key: i, parent: b }, out, show);
    }
    return;
  }
  if (!equal(a, b)) change();
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
