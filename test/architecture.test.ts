// The layering DESIGN.md §2 states, checked on every import in src/ (type-only imports and
// dynamic imports included): spec ← constructs ← synth ← review ← cli; runtime → spec only; of
// the rest only the CLI imports the runtime; no import cycles; cdk8s-plus behind one module; no
// function over 150 lines.
import { describe, expect, it } from 'vitest';
import { analyzeImports, type ImportGraph, layerOf, longFunctions } from './support/import-graph.ts';

const graph: ImportGraph = analyzeImports('src');

/** Which layers each layer may import (itself included). */
const ALLOWED: Record<string, readonly string[]> = {
  spec: ['spec'],
  constructs: ['spec', 'constructs'],
  synth: ['spec', 'constructs', 'synth'],
  review: ['spec', 'constructs', 'synth', 'review'],
  cli: ['spec', 'constructs', 'synth', 'review', 'cli', 'runtime'],
  runtime: ['spec', 'runtime'],
  // the public API: the constructs and what users synthesize with
  index: ['spec', 'constructs', 'synth'],
};

/** The one module that may import cdk8s-plus, so a newer version is a one-line change. */
const PLUS_MODULE = 'src/constructs/workloads/kplus.ts';

/** Packages the contract layer may use: pure data and checks (parseArgs for flags), no cdk8s, no I/O. */
const SPEC_PACKAGES = new Set(['ajv', 'yaml', 'node:util']);

describe('architecture', () => {
  it('imports only downward through the layers', () => {
    const upward = graph.edges
      .filter((e) => e.to.startsWith('src/'))
      .filter((e) => !ALLOWED[layerOf(e.from)]?.includes(layerOf(e.to)))
      .map(
        (e) => `${e.from} → ${e.to} (${layerOf(e.from)} may import ${ALLOWED[layerOf(e.from)]?.join(', ')})`,
      );
    expect(upward).toEqual([]);
  });

  it('has no import cycles', () => {
    const cycles = graph.cycles().map((c) => c.join(' → '));
    expect(cycles).toEqual([]);
  });

  it('keeps the contract layer free of cdk8s and I/O', () => {
    const impure = graph.packages
      .filter((p) => layerOf(p.from) === 'spec' && !SPEC_PACKAGES.has(p.name))
      .map((p) => `${p.from} imports ${p.name}`);
    expect(impure).toEqual([]);
  });

  it('imports cdk8s-plus in one module only', () => {
    const users = [...new Set(graph.packages.filter((p) => p.name === 'cdk8s-plus-28').map((p) => p.from))];
    expect(users).toEqual([PLUS_MODULE]);
  });

  it('keeps every function short enough to read at once', () => {
    expect(longFunctions('src', 150)).toEqual([]);
  });
});
