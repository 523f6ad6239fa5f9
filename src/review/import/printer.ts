// A small TypeScript printer for generated code: expressions stay on one line when they fit
// in the width and break like Biome/Prettier otherwise (last object/array argument hugged,
// trailing commas), so the output needs no formatter.

export type Expr =
  | { t: 'raw'; text: string }
  | { t: 'obj'; entries: Array<[string, Expr]> }
  | { t: 'arr'; items: Expr[] }
  | { t: 'call'; callee: string; args: Expr[] };

export const WIDTH = 110;
const INDENT = '  ';

export const raw = (text: string): Expr => ({ t: 'raw', text });
export type ObjExpr = Extract<Expr, { t: 'obj' }>;
export const obj = (entries: Array<[string, Expr | undefined]>): ObjExpr => ({
  t: 'obj',
  entries: entries.filter((e): e is [string, Expr] => e[1] !== undefined),
});
export const arr = (items: Expr[]): Expr => ({ t: 'arr', items });
export const call = (callee: string, ...args: Expr[]): Expr => ({ t: 'call', callee, args });

/** A string literal: single quotes unless that needs more escapes than double quotes. */
export function str(s: string): Expr {
  return raw(quote(s));
}

export function quote(s: string): string {
  const body = JSON.stringify(s).slice(1, -1); // escapes \, control characters and "
  const singles = (s.match(/'/g) ?? []).length;
  const doubles = (s.match(/"/g) ?? []).length;
  if (singles > doubles) return `"${body}"`;
  return `'${body.replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
}

export function key(k: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(k) ? k : quote(k);
}

/** Any JSON value as a literal expression (keys in their given order). */
export function literal(v: unknown): Expr {
  if (v === null) return raw('null');
  if (Array.isArray(v)) return arr(v.map(literal));
  if (typeof v === 'object') return obj(Object.entries(v as object).map(([k, x]) => [k, literal(x)]));
  if (typeof v === 'string') return str(v);
  return raw(String(v));
}

export function flat(e: Expr): string {
  switch (e.t) {
    case 'raw':
      return e.text;
    case 'obj':
      return e.entries.length ? `{ ${e.entries.map(([k, v]) => `${key(k)}: ${flat(v)}`).join(', ')} }` : '{}';
    case 'arr':
      return `[${e.items.map(flat).join(', ')}]`;
    case 'call':
      return `${e.callee}(${e.args.map(flat).join(', ')})`;
  }
}

/**
 * Prints `e` starting at column `col` (the text before it on its line), with `tail` characters
 * that follow it on its last line (`,`, `;`, `)`); `depth` is the indentation level.
 */
export function print(e: Expr, depth: number, col: number, tail: number): string {
  const one = flat(e);
  if (col + one.length + tail <= WIDTH && !mustBreak(e)) return one;
  const pad = INDENT.repeat(depth + 1);
  const end = INDENT.repeat(depth);
  switch (e.t) {
    case 'raw':
      return e.text;
    case 'obj':
      return `{\n${e.entries.map(([k, v]) => `${pad}${property(k, v, depth + 1)},`).join('\n')}\n${end}}`;
    case 'arr':
      return `[\n${e.items.map((v) => `${pad}${print(v, depth + 1, pad.length, 1)},`).join('\n')}\n${end}]`;
    case 'call': {
      const last = e.args[e.args.length - 1];
      const head = e.args.slice(0, -1).map(flat);
      const simple = head.every((h) => !h.includes('{') && !h.includes('['));
      if (last && (last.t === 'obj' || last.t === 'arr') && simple) {
        const prefix = `${e.callee}(${head.map((h) => `${h}, `).join('')}`;
        if (col + prefix.length + 1 <= WIDTH)
          return `${prefix}${print(last, depth, col + prefix.length, tail + 1)})`;
      }
      return `${e.callee}(\n${e.args.map((a) => `${pad}${print(a, depth + 1, pad.length, 1)},`).join('\n')}\n${end})`;
    }
  }
}

/** Arrays of several objects (each with several keys) are always one item per line. */
function mustBreak(e: Expr): boolean {
  if (e.t !== 'arr' || e.items.length < 2) return false;
  return e.items.every(
    (i) => (i.t === 'obj' && i.entries.length > 1) || (i.t === 'arr' && i.items.length > 1),
  );
}

/** `key: value`; a long plain value moves to its own, further indented line. */
function property(k: string, v: Expr, depth: number): string {
  const pad = INDENT.repeat(depth);
  const head = `${key(k)}: `;
  if (v.t === 'raw' && pad.length + head.length + v.text.length + 1 > WIDTH) {
    return `${key(k)}:\n${pad}${INDENT}${v.text}`;
  }
  return `${head}${print(v, depth, pad.length + head.length, 1)}`;
}

/** `const name = expr;` or `expr;` at top level. */
export function statement(e: Expr, binding?: string): string {
  const prefix = binding ? `const ${binding} = ` : '';
  return `${prefix}${print(e, 0, prefix.length, 1)};`;
}
