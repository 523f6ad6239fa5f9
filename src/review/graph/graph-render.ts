// Renders pipeline graphs as Mermaid or Graphviz DOT, alone or as a before/after overlay.
import { edgeKey, type GraphEdge, type GraphNode, type PipelineGraph } from './pipeline-graph.ts';

export type Mark = 'added' | 'removed' | 'same';

interface Overlay {
  name: string;
  nodes: Array<GraphNode & { mark: Mark }>;
  edges: Array<GraphEdge & { mark: Mark }>;
}

function plain(g: PipelineGraph): Overlay {
  return {
    name: g.name,
    nodes: g.nodes.map((n) => ({ ...n, mark: 'same' })),
    edges: g.edges.map((e) => ({ ...e, mark: 'same' })),
  };
}

/** Union of two graphs with each node and edge marked added, removed or unchanged. */
export function overlayGraphs(before: PipelineGraph | undefined, after: PipelineGraph | undefined): Overlay {
  const b = before ?? { name: after?.name ?? '', nodes: [], edges: [] };
  const a = after ?? { name: b.name, nodes: [], edges: [] };
  const bNodes = new Set(b.nodes.map((n) => n.key));
  const aNodes = new Set(a.nodes.map((n) => n.key));
  const bEdges = new Set(b.edges.map(edgeKey));
  const aEdges = new Set(a.edges.map(edgeKey));
  const mark = (inB: boolean, inA: boolean): Mark => (inB && inA ? 'same' : inA ? 'added' : 'removed');
  const nodes = [...a.nodes, ...b.nodes.filter((n) => !aNodes.has(n.key))].map((n) => ({
    ...n,
    mark: mark(bNodes.has(n.key), aNodes.has(n.key)),
  }));
  const edges = [...a.edges, ...b.edges.filter((e) => !aEdges.has(edgeKey(e)))].map((e) => ({
    ...e,
    mark: mark(bEdges.has(edgeKey(e)), aEdges.has(edgeKey(e))),
  }));
  return { name: a.name, nodes, edges };
}

function nodeText(n: GraphNode): string {
  const joins = [n.join && `${n.join} join`, n.triggersJoin && `triggers: ${n.triggersJoin} join`].filter(
    Boolean,
  );
  return joins.length ? `${n.label}\n(${joins.join(', ')})` : n.label;
}

// Mermaid strings are double-quoted; `#quot;` is its escape for a quote.
const mq = (s: string) => `"${s.replace(/"/g, '#quot;').replace(/\n/g, '<br/>')}"`;

function mermaidOf(o: Overlay): string {
  const ids = new Map(o.nodes.map((n, i) => [n.key, `n${i}`]));
  const lines = ['flowchart LR'];
  for (const n of o.nodes) {
    const id = ids.get(n.key);
    const text = mq(n.mark === 'same' ? nodeText(n) : `${n.mark === 'added' ? '+ ' : '− '}${nodeText(n)}`);
    const shape = n.kind === 'step' ? `[${text}]` : n.kind === 'external' ? `[/${text}/]` : `([${text}])`;
    lines.push(`  ${id}${shape}${n.mark === 'same' ? '' : `:::${n.mark}`}`);
  }
  const styles: string[] = [];
  o.edges.forEach((e, i) => {
    const arrow = e.kind === 'trigger' ? '-.->' : '-->';
    const prefix = e.mark === 'added' ? '+ ' : e.mark === 'removed' ? '− ' : '';
    const label = prefix || e.label ? `|${mq(`${prefix}${e.label}`.trim())}|` : '';
    lines.push(`  ${ids.get(e.from)} ${arrow}${label} ${ids.get(e.to)}`);
    if (e.mark === 'added') styles.push(`  linkStyle ${i} stroke:#1a7f37,stroke-width:3px`);
    if (e.mark === 'removed')
      styles.push(`  linkStyle ${i} stroke:#cf222e,stroke-width:3px,stroke-dasharray:4`);
  });
  lines.push(...styles);
  if (o.nodes.some((n) => n.mark !== 'same')) {
    lines.push(
      '  classDef added fill:#dafbe1,stroke:#1a7f37',
      '  classDef removed fill:#ffebe9,stroke:#cf222e',
    );
  }
  return `${lines.join('\n')}\n`;
}

// DOT strings: escape backslashes and quotes; newlines become \n.
const dq = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

function dotOf(o: Overlay): string {
  const ids = new Map(o.nodes.map((n, i) => [n.key, `n${i}`]));
  const color = (m: Mark) =>
    m === 'added' ? ', color="#1a7f37"' : m === 'removed' ? ', color="#cf222e"' : '';
  const lines = [`digraph ${dq(o.name)} {`, '  rankdir=LR;', '  node [fontname="Helvetica"];'];
  for (const n of o.nodes) {
    const shape = n.kind === 'step' ? 'box' : n.kind === 'external' ? 'parallelogram' : 'oval';
    lines.push(`  ${ids.get(n.key)} [shape=${shape}, label=${dq(nodeText(n))}${color(n.mark)}];`);
  }
  for (const e of o.edges) {
    const attrs = [e.label && `label=${dq(e.label)}`, e.kind === 'trigger' && 'style=dashed'].filter(Boolean);
    const extra = color(e.mark);
    const list = attrs.join(', ') + (attrs.length && extra ? extra : extra.slice(2));
    lines.push(`  ${ids.get(e.from)} -> ${ids.get(e.to)}${list ? ` [${list}]` : ''};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

export function renderMermaid(g: PipelineGraph): string {
  return mermaidOf(plain(g));
}

export function renderDot(g: PipelineGraph): string {
  return dotOf(plain(g));
}

/** Mermaid picture of a changed pipeline: added edges green, removed edges red and dashed. */
export function renderMermaidDiff(
  before: PipelineGraph | undefined,
  after: PipelineGraph | undefined,
): string {
  return mermaidOf(overlayGraphs(before, after));
}
