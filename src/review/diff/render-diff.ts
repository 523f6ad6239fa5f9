// Renders a DiffResult as terminal text, a GitHub PR comment (markdown) or JSON.
import { stringify } from 'yaml';
import type { PipelineSpec } from '../../spec/types.ts';
import { renderMermaidDiff } from '../graph/graph-render.ts';
import { pipelineGraph } from '../graph/pipeline-graph.ts';
import { describeId } from '../identity.ts';
import type { DiffResult, ObjectDiff, ObjectStatus } from './compare.ts';
import type { FieldChange } from './field-diff.ts';

export type DiffFormat = 'text' | 'markdown' | 'json';

const SIGN: Record<ObjectStatus, string> = { added: '+', removed: '-', changed: '~', replaced: '±' };

export function summaryLine(r: DiffResult): string {
  const s = r.summary;
  return `${s.added} added, ${s.changed} changed, ${s.replaced} replaced, ${s.removed} removed (${s.unchanged} unchanged)`;
}

/** One-line value for text output; long values are cut so a line stays readable. */
function inline(v: unknown, max = 160): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function changeLine(c: FieldChange): string {
  if (c.op === 'add') return `${c.path}: + ${inline(c.after)}`;
  if (c.op === 'remove') return `${c.path}: - ${inline(c.before)}`;
  return `${c.path}: ${inline(c.before)} → ${inline(c.after)}`;
}

export function renderText(r: DiffResult): string {
  const lines = [summaryLine(r)];
  for (const d of r.objects) {
    lines.push(
      '',
      `${SIGN[d.status]} ${describeId(d.id)}${d.id.group ? ` (${d.id.group})` : ''}${d.status === 'replaced' ? ' [replaced]' : ''}`,
    );
    for (const w of d.warnings) lines.push(`    ! ${w}`);
    for (const n of d.notes) lines.push(`    * ${n}`);
    for (const c of d.changes) lines.push(`    ${changeLine(c)}`);
  }
  return `${lines.join('\n')}\n`;
}

export function renderJson(r: DiffResult): string {
  const objects = r.objects.map((d) => ({
    group: d.id.group,
    kind: d.id.kind,
    namespace: d.id.namespace,
    name: d.id.name,
    status: d.status,
    ...(d.beforeFile ? { beforeFile: d.beforeFile } : {}),
    ...(d.afterFile ? { afterFile: d.afterFile } : {}),
    notes: d.notes,
    warnings: d.warnings,
    changes: d.changes,
    // Whole objects only where there is no field diff to read (secret values masked).
    ...(d.status === 'added' ? { object: d.after } : d.status === 'removed' ? { object: d.before } : {}),
  }));
  return `${JSON.stringify({ summary: r.summary, objects }, null, 2)}\n`;
}

export interface MarkdownOptions {
  /** Title prefix, e.g. the environment name. */
  title?: string;
  /** Hard cap on the comment length (GitHub rejects comments over 65,536 characters). */
  maxChars?: number;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function fence(body: string, lang: string): string {
  let ticks = '```';
  while (body.includes(ticks)) ticks += '`';
  return `${ticks}${lang}\n${body.endsWith('\n') ? body : `${body}\n`}${ticks}`;
}

function block(v: unknown, sign: '-' | '+'): string {
  const text =
    typeof v === 'object' && v !== null ? stringify(v, { lineWidth: 0 }).trimEnd() : inline(v, 10_000);
  return text
    .split('\n')
    .map((l) => `${sign} ${l}`)
    .join('\n');
}

function diffBlock(d: ObjectDiff): string {
  if (d.status === 'added' || d.status === 'removed') {
    const o = d.status === 'added' ? d.after : d.before;
    return fence(block(o, d.status === 'added' ? '+' : '-'), 'diff');
  }
  const parts = d.changes.map((c) => {
    const lines = [`@@ ${c.path} @@`];
    if (c.op !== 'add') lines.push(block(c.before, '-'));
    if (c.op !== 'remove') lines.push(block(c.after, '+'));
    return lines.join('\n');
  });
  return fence(parts.join('\n'), 'diff');
}

function headline(d: ObjectDiff): string {
  const first = d.warnings[0] ?? d.notes[0];
  const n = d.changes.length;
  const what =
    d.status === 'changed' || d.status === 'replaced'
      ? `${d.status} (${n} field${n === 1 ? '' : 's'})`
      : d.status;
  return first ? `${what}: ${first}` : what;
}

function section(d: ObjectDiff): string {
  const out = [`<details><summary><code>${SIGN[d.status]}</code> ${describeId(d.id)}</summary>`, ''];
  for (const w of d.warnings) out.push(`- :warning: ${w}`);
  for (const n of d.notes) out.push(`- ${n}`);
  if (d.warnings.length || d.notes.length) out.push('');
  const isPipeline = d.id.kind === 'Pipeline' && d.id.group === 'mlops.seldon.io';
  if (isPipeline) {
    const g = (o: ObjectDiff['before']) =>
      o ? pipelineGraph(d.id.name, (o.spec ?? {}) as PipelineSpec) : undefined;
    out.push(fence(renderMermaidDiff(g(d.before), g(d.after)), 'mermaid'), '');
  }
  out.push(diffBlock(d), '', '</details>');
  return out.join('\n');
}

export function renderMarkdown(r: DiffResult, options: MarkdownOptions = {}): string {
  const max = options.maxChars ?? 60_000;
  const s = r.summary;
  const totals = `${s.added} added · ${s.changed} changed · ${s.replaced} replaced · ${s.removed} removed`;
  const head = [`### ${options.title ? `${options.title}: ` : ''}${totals}`, ''];
  if (r.objects.length === 0) return `${head[0]}\n\nNo differences (${s.unchanged} objects unchanged).\n`;
  // A rename warning sits on both objects and already names them: show it once.
  const warnings = [
    ...new Set(
      r.objects.flatMap((d) =>
        d.warnings.map((w) => (w.startsWith('rename ') ? w : `${describeId(d.id)}: ${w}`)),
      ),
    ),
  ];
  if (warnings.length) head.push(...warnings.map((w) => `> :warning: ${w}`), '');

  const tableHead = ['| Kind | Namespace/Name | Change |', '|---|---|---|'];
  const rows = r.objects.map(
    (d) =>
      `| ${cell(d.id.kind)} | ${cell(`${d.id.namespace ? `${d.id.namespace}/` : ''}${d.id.name}`)} | ${cell(headline(d))} |`,
  );
  const notice = (n: number) =>
    `\n_…${n} more object${n === 1 ? '' : 's'} not shown to keep this comment under ${max} characters; run \`mlops diff\` locally or open the CI artifact for the full diff._\n`;
  const budget = max - 400; // room for the truncation notice
  let text = `${head.join('\n')}\n`;
  // Table rows first (they are the overview), then one collapsible section per object.
  let table = tableHead.join('\n');
  let shownRows = 0;
  for (const row of rows) {
    if (text.length + table.length + row.length + 1 > budget / 2) break;
    table += `\n${row}`;
    shownRows++;
  }
  text += `${table}\n`;
  if (shownRows < rows.length) text += `| … | ${rows.length - shownRows} more | |\n`;
  text += `\n<sub>${s.unchanged} unchanged</sub>\n`;
  let shown = 0;
  for (const d of r.objects) {
    const sec = `\n${section(d)}\n`;
    if (text.length + sec.length > budget) break;
    text += sec;
    shown++;
  }
  if (shown < r.objects.length) text += notice(r.objects.length - shown);
  return text;
}

export function renderDiff(r: DiffResult, format: DiffFormat, options: MarkdownOptions = {}): string {
  if (format === 'json') return renderJson(r);
  if (format === 'markdown') return renderMarkdown(r, options);
  return renderText(r);
}
