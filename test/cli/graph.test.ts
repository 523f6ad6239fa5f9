import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mlops } from '../review/cli.ts';
import { fixtures } from '../review/golden.ts';

const dir = join(fixtures, 'graph');

describe('mlops graph', () => {
  it('draws a pipeline from manifests', () => {
    const r = mlops(['graph', 'fraud-review', '--dir', dir, '-n', 'risk']);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('flowchart LR\n')).toBe(true);
    expect(r.stdout).toContain('-.->|"explain"|');
    const dot = mlops(['graph', 'fraud-review', '--dir', dir, '-n', 'staging', '--format', 'dot']);
    expect(dot.stdout).toContain('digraph "fraud-review"');
  });

  it('asks for a namespace when the name is ambiguous, and lists pipelines when missing', () => {
    expect(mlops(['graph', 'fraud-review', '--dir', dir])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/several namespaces \(risk, staging\); pick one with --namespace/),
    });
    expect(mlops(['graph', 'nope', '--dir', dir]).stderr).toMatch(
      /no Pipeline nope in .*pipelines: risk\/fraud-review, staging\/fraud-review/,
    );
  });

  it('draws a pipeline of an app by synthesizing it', () => {
    const r = mlops(['graph', 'score', '--app', join(dir, 'app.ts')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('["scorer<br/>(outer join)"]');
    expect(r.stdout).toContain('-.->|"ok"|');
    expect(mlops(['graph', 'score', '--app', join(dir, 'missing.ts')])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/missing.ts: no such file/),
    });
  });
});
