// Every import of every module under a folder, read with the TypeScript compiler's parser so that
// `import type`, `export … from` and dynamic `import()` all count.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
  from: string;
  to: string;
}

export interface PackageImport {
  from: string;
  name: string;
}

export interface ImportGraph {
  /** Imports between modules of the tree, as paths relative to the working directory. */
  edges: ImportEdge[];
  /** Imports of packages and Node built-ins. */
  packages: PackageImport[];
  /** Every cycle, as one strongly connected component each (its modules in path order). */
  cycles(): string[][];
}

/** `src/<layer>/…` → layer; `src/index.ts` → index. */
export function layerOf(path: string): string {
  const parts = path.split('/');
  return parts.length > 2 ? parts[1] : 'index';
}

function modulesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f))
    .sort();
}

/** Module specifiers of every static, type-only, re-export and dynamic import in a source. */
export function specifiersOf(fileName: string, source: string): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier)) found.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push(node.arguments[0].text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const literal = node.argument.literal;
      if (ts.isStringLiteral(literal)) found.push(literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

function packageName(specifier: string): string {
  if (specifier.startsWith('node:')) return specifier;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

export function analyzeImports(root: string): ImportGraph {
  const edges: ImportEdge[] = [];
  const packages: PackageImport[] = [];
  for (const from of modulesUnder(root)) {
    for (const specifier of specifiersOf(from, readFileSync(from, 'utf8'))) {
      if (specifier.startsWith('.')) {
        edges.push({ from, to: relative('.', normalize(join(dirname(from), specifier))) });
      } else {
        packages.push({ from, name: packageName(specifier) });
      }
    }
  }
  return { edges, packages, cycles: () => stronglyConnected(edges) };
}

/** Tarjan's algorithm; components of one module count only when it imports itself. */
function stronglyConnected(edges: ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;
  const connect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || next.get(v)?.includes(v)) components.push(component.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) connect(v);
  return components;
}

/** Functions (declarations, methods, arrows) longer than `limit` lines, as `path:line name (N lines)`. */
export function longFunctions(root: string, limit: number): string[] {
  const long: string[] = [];
  for (const path of modulesUnder(root)) {
    const file = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const first = file.getLineAndCharacterOfPosition(node.getStart()).line;
        const lines = file.getLineAndCharacterOfPosition(node.end).line - first + 1;
        const name = node.name && ts.isIdentifier(node.name) ? node.name.text : '(anonymous)';
        if (lines > limit) long.push(`${path}:${first + 1} ${name} (${lines} lines)`);
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return long;
}
