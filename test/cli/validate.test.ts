import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mlops } from '../review/cli.ts';
import { fixtures } from '../review/golden.ts';

describe('mlops validate', () => {
  it('exits 0 on a clean set, 1 with findings, 2 on errors', () => {
    expect(mlops(['validate', join(fixtures, 'validate/clean')])).toMatchObject({
      code: 0,
      stdout: '13 objects checked: no findings\n',
    });
    const bad = mlops(['validate', join(fixtures, 'validate/bad')]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(
      /^workloads.yaml: Service serving\/worker: spec.ports\[0\].protocl: unknown field "protocl"/m,
    );
    expect(mlops(['validate', join(fixtures, 'nope')])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/no such file or directory/),
    });
  });

  it('prints json, honours --external, --ignore-missing-schemas and --no-policy', () => {
    const dir = join(fixtures, 'validate/bad');
    const all = JSON.parse(mlops(['validate', dir, '--format', 'json']).stdout).findings.length;
    const fewer = JSON.parse(
      mlops([
        'validate',
        dir,
        '--format',
        'json',
        '--no-policy',
        '--ignore-missing-schemas',
        '--external',
        'Model/ranker',
        '--external',
        'Model/ranker-v2,Server/gpu-pool',
      ]).stdout,
    ).findings;
    expect(fewer.some((f: { rule: string }) => f.rule === 'policy')).toBe(false);
    expect(fewer.some((f: { check: string }) => f.check === 'no-schema')).toBe(false);
    for (const name of ['"ranker"', '"ranker-v2"', '"gpu-pool"']) {
      expect(fewer.some((f: { message: string }) => f.message.includes(name))).toBe(false);
    }
    expect(fewer.length).toBeLessThan(all);
  });
});
