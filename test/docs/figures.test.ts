import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// Benchmark figures live only in docs/BENCHMARKS.md, which `npm run bench` writes from a measured
// run; a figure copied by hand elsewhere goes stale the next time the code or the machine changes.
const root = new URL('../../', import.meta.url);
const pages = [
  'README.md',
  ...readdirSync(new URL('docs/', root))
    .filter((f) => f.endsWith('.md') && f !== 'BENCHMARKS.md')
    .map((f) => `docs/${f}`),
];

/** What a measured figure looks like: a rate, a time in µs or ms, a latency percentile, a ratio.
 * (Settings are documented in seconds, so a time in ms is taken as a measurement.) */
const FIGURE = [
  /\d[\d,.]*\s*req\/s/,
  /\d[\d,.]*\s*µs/,
  /\d[\d,.]*\s*ms\b/,
  /\bp\d\d\s*(?:of|at|is|=|:)?\s*\d/,
  /\d+\.\d+\s*×/,
];

function figures(text: string): string[] {
  return text.split('\n').filter((line) => FIGURE.some((re) => re.test(line)));
}

describe('benchmark figures in the documentation', () => {
  it.each(pages)('%s quotes none (it links to docs/BENCHMARKS.md instead)', (page) => {
    expect(figures(readFileSync(new URL(page, root), 'utf8'))).toEqual([]);
  });

  it('recognises the forms a copied figure takes', () => {
    expect(figures('the gateway adds 0.08 ms p50')).toHaveLength(1);
    expect(figures('about 1,644 req/s via the gateway')).toHaveLength(1);
    expect(figures('3.40 µs per decision')).toHaveLength(1);
    expect(figures('p99 of 30.5 ms')).toHaveLength(1);
    expect(figures('the semantic diff takes 8.79× as long')).toHaveLength(1);
    expect(figures('`mlops --help` starts in about 75 ms')).toHaveLength(1);
    expect(figures('all scores halve every 2 × (number of registered models) requests')).toEqual([]);
    expect(figures('the default 10 % over-commit, polled every 0.5 s')).toEqual([]);
    expect(figures('`--wait-for-servers-ms` (default 10 s); the p50 is not affected')).toEqual([]);
  });
});
