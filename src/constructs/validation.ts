/**
 * Validation findings: every construct records its problems instead of throwing, so one synth
 * reports all of them together, each with the construct path, the field, the bad value and
 * what would be valid.
 */
import type { IConstruct } from 'constructs';

export interface ValidationFinding {
  /** Construct path, e.g. `prod/iris`. */
  path: string;
  /** Field of the construct props (or of the emitted spec) that is wrong, e.g. `memory`. */
  field: string;
  /** The offending value, when there is one to show. */
  value?: unknown;
  /** What is wrong. */
  message: string;
  /** What would be valid, or how to fix it. */
  fix?: string;
}

/** A finding without its path: the construct that reports it supplies the path. */
export type Problem = Omit<ValidationFinding, 'path'>;

/** What rules can look at: every construct of the tree being validated, computed once. */
export interface RuleContext {
  readonly all: readonly IConstruct[];
}

export type Rule = (context: RuleContext) => Problem[];

const memos = new WeakMap<RuleContext, Map<unknown, unknown>>();

/**
 * A value computed once per validation run (e.g. an index of all servers by namespace), so
 * cross-object rules stay linear in the size of the app.
 */
export function memoize<T>(context: RuleContext, key: unknown, compute: () => T): T {
  let memo = memos.get(context);
  if (!memo) {
    memo = new Map();
    memos.set(context, memo);
  }
  if (!memo.has(key)) memo.set(key, compute());
  return memo.get(key) as T;
}

const rules = new WeakMap<IConstruct, Rule[]>();

// cdk8s validates construct by construct; sharing one context per tree keeps that linear. The
// context is rebuilt whenever a construct that rules look at has been added since.
let generation = 0;
const sharedContexts = new WeakMap<IConstruct, { generation: number; context: RuleContext }>();

/** Marks the tree as changed: constructs that rules look at call this when created. */
export function treeChanged(): void {
  generation++;
}

function sharedContext(root: IConstruct): RuleContext {
  let cached = sharedContexts.get(root);
  if (!cached || cached.generation !== generation) {
    cached = { generation, context: { all: root.node.findAll() } };
    sharedContexts.set(root, cached);
  }
  return cached.context;
}

/**
 * Registers a rule for `scope`. It runs for `collectFindings` and, through `node.addValidation`,
 * when a plain cdk8s `App` synthesizes, so bad input never reaches YAML either way.
 */
export function addRule(scope: IConstruct, rule: Rule): void {
  treeChanged();
  let list = rules.get(scope);
  if (!list) {
    list = [];
    rules.set(scope, list);
    const own = list;
    scope.node.addValidation({
      validate: () => {
        const context = sharedContext(scope.node.root);
        return own.flatMap((r) => r(context)).map((p) => oneLine({ path: scope.node.path, ...p }));
      },
    });
  }
  list.push(rule);
}

/** Records a problem found eagerly (e.g. in a constructor). */
export function addProblem(scope: IConstruct, problem: Problem): void {
  addRule(scope, () => [problem]);
}

/** Runs every rule under `root` (cross-object rules included); findings sorted by path, then field. */
export function collectFindings(root: IConstruct): ValidationFinding[] {
  const all = root.node.findAll();
  const context: RuleContext = { all };
  const findings: ValidationFinding[] = [];
  for (const scope of all) {
    for (const rule of rules.get(scope) ?? []) {
      for (const problem of rule(context)) findings.push({ path: scope.node.path, ...problem });
    }
  }
  // Stable sort: findings of one construct keep the order its rules produced them in.
  return findings.sort((a, b) => compare(a.path, b.path) || compare(a.field, b.field));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value !== null && typeof value === 'object' && 'node' in value) {
    return (value as IConstruct).node.path;
  }
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function oneLine(f: ValidationFinding): string {
  const value = f.value === undefined ? '' : ` (got ${show(f.value)})`;
  const fix = f.fix ? `; ${f.fix}` : '';
  return `${f.field}: ${f.message}${value}${fix}`;
}

/** One readable report: a block per finding with its path, field, bad value and the fix. */
export function formatFindings(findings: readonly ValidationFinding[]): string {
  if (findings.length === 0) return 'no problems found\n';
  const blocks = findings.map((f) => {
    const lines = [`${f.path}`, `  field:   ${f.field}`];
    if (f.value !== undefined) lines.push(`  value:   ${show(f.value)}`);
    lines.push(`  problem: ${f.message}`);
    if (f.fix) lines.push(`  fix:     ${f.fix}`);
    return lines.join('\n');
  });
  const title = `${findings.length} problem${findings.length === 1 ? '' : 's'} found:`;
  return `${title}\n\n${blocks.join('\n\n')}\n`;
}
