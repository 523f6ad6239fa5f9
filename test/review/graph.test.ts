import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderDot, renderMermaid, renderMermaidDiff } from '../../src/review/graph/graph-render.ts';
import { pipelineGraph } from '../../src/review/graph/pipeline-graph.ts';
import { loadManifests } from '../../src/review/manifests.ts';
import type { PipelineSpec } from '../../src/spec/types.ts';
import { expectGolden, fixtures } from './golden.ts';

const [risk] = loadManifests([join(fixtures, 'graph/pipelines.yaml')]);
const graph = pipelineGraph('fraud-review', risk.object.spec as PipelineSpec);

describe('pipelineGraph', () => {
  it('has the pipeline inputs, steps, outputs and external sources', () => {
    expect(graph.nodes.map((n) => [n.key, n.join ?? '', n.triggersJoin ?? ''])).toEqual([
      ['external:transactions.outputs', '', ''],
      ['external:customers.step.profile.outputs', '', ''],
      ['external:review-queue.outputs', '', ''],
      ['inputs', 'outer', ''],
      ['step:gate', '', ''],
      ['step:scorer', 'any', ''],
      ['step:explainer', 'inner', 'outer'],
      ['outputs', 'outer', ''],
    ]);
  });

  it('labels edges with tensors and renames, triggers apart', () => {
    expect(graph.edges.map((e) => `${e.from} -> ${e.to} ${e.kind} ${e.label}`)).toEqual([
      'inputs -> step:gate data ',
      'inputs -> step:scorer data features',
      'inputs -> step:scorer data customer',
      'step:scorer -> step:explainer data score → risk',
      'step:scorer -> step:explainer data inputs',
      'step:gate -> step:explainer trigger explain',
      'step:gate -> step:explainer trigger audit',
      'external:transactions.outputs -> inputs data features',
      'external:customers.step.profile.outputs -> inputs data embedding → customer',
      'external:review-queue.outputs -> inputs trigger ',
      'step:scorer -> outputs data ',
      'step:explainer -> outputs data reason',
    ]);
  });

  it('renders Mermaid and DOT (golden)', () => {
    expectGolden('graph.mmd', renderMermaid(graph));
    expectGolden('graph.dot', renderDot(graph));
  });

  it('marks added and removed edges in the diff picture', () => {
    const before = pipelineGraph('p', { steps: [{ name: 'a' }, { name: 'b', inputs: ['a'] }] });
    const after = pipelineGraph('p', { steps: [{ name: 'a' }, { name: 'c', inputs: ['a'] }] });
    expectGolden('graph-diff.mmd', renderMermaidDiff(before, after));
    const text = renderMermaidDiff(before, after);
    expect(text).toContain('["+ c"]:::added');
    expect(text).toContain('["− b"]:::removed');
    expect(text).toMatch(/linkStyle 1 stroke:#1a7f37/);
    expect(text).toMatch(/linkStyle 2 stroke:#cf222e/);
  });

  it('escapes quotes in Mermaid and DOT labels', () => {
    const g = pipelineGraph('q"x', { steps: [{ name: 'a"b' }] });
    expect(renderMermaid(g)).toContain('["a#quot;b"]');
    expect(renderDot(g)).toContain('label="a\\"b"');
  });
});
