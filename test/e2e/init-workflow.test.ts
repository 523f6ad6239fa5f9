// The CI workflow `mlops init` writes passes actionlint (GitHub Actions syntax, expressions,
// action inputs), with and without environments; a broken copy is caught, so the check is real.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { scaffold } from '../../src/cli/init/scaffold.ts';
import { runActionlint } from './harness/actionlint.ts';
import { describeE2E } from './harness/toolchain.ts';

const work = mkdtempSync(join(tmpdir(), 'mlops-init-workflow-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const WORKFLOW = '.github/workflows/mlops.yml';

describeE2E('mlops init workflow (actionlint)', [], () => {
  it('passes actionlint for one app and for one app per environment', () => {
    const single = join(work, 'single');
    const envs = join(work, 'envs');
    scaffold(single, {});
    scaffold(envs, { env: ['dev', 'staging', 'prod'] });
    expect(runActionlint([join(single, WORKFLOW), join(envs, WORKFLOW)])).toEqual([]);
  });

  it('reports a broken workflow', () => {
    const dir = join(work, 'broken');
    scaffold(dir, {});
    const file = join(dir, WORKFLOW);
    writeFileSync(file, readFileSync(file, 'utf8').replace('runs-on:', 'run-on:'));
    expect(runActionlint([file]).join('\n')).toMatch(/runs-on/);
  });
});
