// `mlops init` end to end, as a user runs it: scaffold into a directory outside the repository,
// install this package's tarball (the rest from the registry, cdk8s-cli included), type-check,
// synthesize with `mlops` and with the official `cdk8s` CLI, whose validation plugin is ours.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { npmInstall, packInto, ROOT, run } from '../package/packed.ts';

const parent = mkdtempSync(join(tmpdir(), 'mlops-init-e2e-'));
const project = join(parent, 'serving');
const inProject = (command: string, args: string[]) =>
  run(command, args, project, { CDK8S_CHECK_UPGRADE: 'false' });

// A plain cdk8s app (no mlops constructs) writing a Model with a misspelt field.
const INVALID_APP = `import { ApiObject, App, Chart } from 'cdk8s';
const app = new App();
const chart = new Chart(app, 'bad', { namespace: 'ml-dev' });
new ApiObject(chart, 'iris', {
  apiVersion: 'mlops.seldon.io/v1alpha1',
  kind: 'Model',
  metadata: { name: 'iris' },
  spec: { storageUri: 'gs://models/iris', requirements: ['sklearn'], replicaz: 2 },
});
app.synth();
`;

beforeAll(() => {
  const tarball = packInto(parent);
  const init = run('node', [join(ROOT, 'bin/mlops.js'), 'init', project, '--env', 'dev,prod'], parent);
  expect(init.status, init.output).toBe(0);
  npmInstall(project, [`../${tarball}`]);
}, 600_000);

afterAll(() => rmSync(parent, { recursive: true, force: true }));

it('type-checks the scaffolded apps strictly', () => {
  const tsc = inProject('npx', ['tsc', '-p', '.']);
  expect(tsc.output).toBe('');
  expect(tsc.status).toBe(0);
}, 120_000);

it('synthesizes one folder per environment with mlops, and validate finds nothing', () => {
  const synth = inProject('npx', ['mlops', 'synth']);
  expect(synth.status, synth.output).toBe(0);
  expect(synth.stdout).toMatch(/^dist\/dev: \d+ files/m);
  expect(synth.stdout).toMatch(/^dist\/prod: \d+ files/m);
  const validate = inProject('npx', ['mlops', 'validate', 'dist']);
  expect(validate.output).toMatch(/no findings/);
  expect(validate.status).toBe(0);
}, 120_000);

it('synthesizes the same output with the cdk8s CLI, and the mlops plugin passes it', () => {
  const cdk8s = inProject('npx', ['cdk8s', 'synth']);
  expect(cdk8s.status, cdk8s.output).toBe(0);
  expect(cdk8s.output).toMatch(/Status\s*│ success/);
  expect(cdk8s.output).toMatch(/findings\s*│ 0/);
  // what cdk8s wrote is what `mlops synth` writes
  const check = inProject('npx', ['mlops', 'synth', '--check']);
  expect(check.status, check.output).toBe(0);
}, 180_000);

it('fails cdk8s synth on an invalid app, reporting the path, the object and the fix', () => {
  writeFileSync(join(project, 'invalid.mjs'), INVALID_APP);
  const cdk8s = inProject('npx', ['cdk8s', 'synth', '--app', 'node invalid.mjs', '--output', 'invalid-out']);
  expect(cdk8s.status).not.toBe(0);
  expect(cdk8s.output).toContain('schema/unknown-field');
  expect(cdk8s.output).toContain('Model ml-dev/iris');
  expect(cdk8s.output).toContain('> spec.replicaz');
  expect(cdk8s.output).toMatch(/Status\s*│ failure/);
  expect(cdk8s.output).toMatch(/How to fix: correct or remove the field/);
  expect(cdk8s.output).toContain('Validation failed');
}, 180_000);
