// The data-flow graph of a Pipeline: steps, data and trigger edges, joins, external inputs.
import { pipelineReferences } from '../../spec/reference-index.ts';
import { parseStepRef, referenceHead, renderPipelineRef } from '../../spec/references.ts';
import type { JoinType, PipelineSpec } from '../../spec/types.ts';

export type NodeKind = 'inputs' | 'outputs' | 'step' | 'external';

export interface GraphNode {
  /** Stable key: `inputs`, `outputs`, `step:<name>`, `external:<ref>`. */
  key: string;
  kind: NodeKind;
  label: string;
  /** Join among this node's data inputs, when it has more than one. */
  join?: JoinType;
  /** Join among this node's triggers, when it has more than one. */
  triggersJoin?: JoinType;
}

export interface GraphEdge {
  from: string;
  to: string;
  kind: 'data' | 'trigger';
  /** Tensor (and rename) carried, e.g. `OUTPUT0 → INPUT0`; empty when the whole message flows. */
  label: string;
}

export interface PipelineGraph {
  name: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export function edgeKey(e: GraphEdge): string {
  return `${e.from} -> ${e.to} ${e.kind} ${e.label}`;
}

/** Builds the graph of one pipeline; unknown step references still get a node so nothing is hidden. */
export function pipelineGraph(name: string, spec: PipelineSpec): PipelineGraph {
  const nodes = new Map<string, GraphNode>();
  const edges: GraphEdge[] = [];
  const steps = new Set((spec.steps ?? []).map((s) => s.name));
  const node = (n: GraphNode) => {
    if (!nodes.has(n.key)) nodes.set(n.key, n);
    return nodes.get(n.key) as GraphNode;
  };
  node({ key: 'inputs', kind: 'inputs', label: `${name} inputs` });

  // Malformed references still get an edge from the step they start with.
  const source = (
    ref: string,
    tensorMap: Record<string, string> | undefined,
  ): { from: string; label: string } => {
    const r = parseStepRef(ref) ?? { name: referenceHead(ref) };
    const from = r.name === name && !steps.has(r.name) ? 'inputs' : `step:${r.name}`;
    const io = r.direction ?? (from === 'inputs' ? 'inputs' : 'outputs');
    if (from !== 'inputs') node({ key: from, kind: 'step', label: r.name });
    const prefix = from !== 'inputs' && io === 'inputs' ? 'inputs.' : '';
    return { from, label: tensorLabel(`${r.name}.${io}`, r.tensor ?? '', prefix, tensorMap) };
  };

  for (const step of spec.steps ?? []) {
    const key = `step:${step.name}`;
    const n = node({ key, kind: 'step', label: step.name });
    const inputs = step.inputs ?? [];
    if (inputs.length === 0) edges.push({ from: 'inputs', to: key, kind: 'data', label: '' });
    for (const ref of inputs) edges.push({ ...source(ref, step.tensorMap), to: key, kind: 'data' });
    for (const ref of step.triggers ?? [])
      edges.push({ ...source(ref, step.tensorMap), to: key, kind: 'trigger' });
    if (inputs.length > 1) n.join = step.inputsJoinType ?? 'inner';
    if ((step.triggers ?? []).length > 1) n.triggersJoin = step.triggersJoinType ?? 'inner';
  }

  const input = spec.input;
  if (input) {
    const inNode = nodes.get('inputs') as GraphNode;
    for (const r of pipelineReferences(spec)) {
      if (r.kind !== 'Pipeline' || (r.role !== 'external-input' && r.role !== 'external-trigger')) continue;
      // The node is the source without its tensor (`p.outputs`, `p.step.s.outputs`); a malformed
      // reference is shown as written.
      const ref = r.data ?? { pipeline: r.name };
      const base = r.data
        ? renderPipelineRef({ ...ref, direction: ref.direction ?? 'outputs', tensor: undefined })
        : (r.text ?? r.name);
      const key = `external:${base}`;
      node({ key, kind: 'external', label: base });
      const kind = r.role === 'external-input' ? 'data' : 'trigger';
      edges.push({
        from: key,
        to: 'inputs',
        kind,
        label: tensorLabel(base, ref.tensor ?? '', '', input.tensorMap),
      });
    }
    if ((input.externalInputs ?? []).length > 1) inNode.join = input.joinType ?? 'inner';
    if ((input.externalTriggers ?? []).length > 1) inNode.triggersJoin = input.triggersJoinType ?? 'inner';
  }

  const output = spec.output;
  if (output && (output.steps ?? []).length > 0) {
    const out = node({ key: 'outputs', kind: 'outputs', label: `${name} outputs` });
    for (const ref of output.steps ?? [])
      edges.push({ ...source(ref, output.tensorMap), to: 'outputs', kind: 'data' });
    if ((output.steps ?? []).length > 1) out.join = output.stepsJoin ?? 'inner';
  }

  const order = (k: NodeKind) => ['external', 'inputs', 'step', 'outputs'].indexOf(k);
  // Stable sort: steps keep their declared order.
  const sortedNodes = [...nodes.values()].sort((a, b) => order(a.kind) - order(b.kind));
  return { name, nodes: sortedNodes, edges };
}

/**
 * Edge label: the tensor a reference selects, with its tensorMap rename; for a whole-message
 * reference, the renames the map applies to tensors of that source (`OUTPUT0 → INPUT0, ...`).
 */
function tensorLabel(
  base: string,
  tensor: string,
  prefix: string,
  tensorMap: Record<string, string> | undefined,
): string {
  const map = tensorMap ?? {};
  if (tensor) {
    const renamed = map[`${base}.${tensor}`];
    return `${prefix}${tensor}${renamed ? ` → ${renamed}` : ''}`;
  }
  const renames = Object.keys(map)
    .filter((k) => k.startsWith(`${base}.`))
    .sort()
    .map((k) => `${prefix}${k.slice(base.length + 1)} → ${map[k]}`);
  return renames.length ? renames.join(', ') : prefix.replace(/\.$/, '');
}
