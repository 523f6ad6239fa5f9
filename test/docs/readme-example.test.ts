import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { TempProject } from '../synth/temp-project.ts';

// The README's example is what a new user copies first: it must synthesize as shown.
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';

describe('README example app', () => {
  it('synthesizes without findings into the objects it declares', () => {
    const project = new TempProject().write('apps/prod.ts', example);
    const run = project.mlops('synth');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);

    const files = project.list('dist/prod');
    expect(files[0]).toBe('00-crds.yaml');
    const kinds = files
      .filter((f) => f.startsWith('mlops.seldon.io_'))
      .map((f) => YAML.parse(project.read(`dist/prod/${f}`)) as { kind: string; metadata: { name: string } })
      .map((o) => `${o.kind}/${o.metadata.name}`)
      .sort();
    expect(kinds).toEqual([
      'Experiment/iris-ab',
      'Model/iris',
      'Model/iris-v2',
      'Model/scorer',
      'Pipeline/score',
      'Server/mlserver',
    ]);
  });
});
