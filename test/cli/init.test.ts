// `mlops init` without installing anything: the files it writes, pinned versions, the workflow's
// steps, environments, and refusing a directory that is not empty.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CliError } from '../../src/cli/errors.ts';
import { scaffold } from '../../src/cli/init/scaffold.ts';
import { pkg, ROOT } from '../package/packed.ts';

const EXACT = /^\d+\.\d+\.\d+$/;

function fresh(): string {
  return join(mkdtempSync(join(tmpdir(), 'mlops-init-')), 'serving');
}

const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');

describe('mlops init', () => {
  it('writes a repository with one app, exact versions and a strict NodeNext tsconfig', () => {
    const dir = fresh();
    expect(scaffold(dir, {}).sort()).toEqual([
      '.github/workflows/mlops.yml',
      '.gitignore',
      'README.md',
      'apps/main.ts',
      'cdk8s.yaml',
      'package.json',
      'tsconfig.json',
    ]);
    const manifest = JSON.parse(read(dir, 'package.json'));
    expect(manifest.name).toBe('serving');
    expect(manifest.dependencies['cdk8s-mlops']).toBe(pkg.version);
    for (const peer of Object.keys(pkg.peerDependencies)) expect(manifest.dependencies[peer]).toMatch(EXACT);
    for (const tool of ['typescript', 'cdk8s-cli']) expect(manifest.devDependencies[tool]).toMatch(EXACT);
    const { compilerOptions } = JSON.parse(read(dir, 'tsconfig.json'));
    expect(compilerOptions).toMatchObject({ strict: true, module: 'NodeNext', moduleResolution: 'NodeNext' });
    expect(compilerOptions.skipLibCheck).toBeUndefined();
    const main = read(dir, 'apps/main.ts');
    for (const construct of ['new Server(', 'new Model(', 'new Pipeline(', 'new Experiment(']) {
      expect(main).toContain(construct);
    }
    expect(read(dir, 'README.md')).toContain('`apps/main.ts` → `dist/main/`');
  });

  it('loads the mlops validation plugin from cdk8s.yaml, at this package version', () => {
    const dir = fresh();
    scaffold(dir, {});
    const config = parse(read(dir, 'cdk8s.yaml'));
    expect(config).toMatchObject({ app: 'npx mlops synth', output: 'dist' });
    expect(config.validations).toEqual([
      {
        package: './node_modules/cdk8s-mlops/lib/review/plugin.js',
        version: pkg.version,
        class: 'MlopsValidation',
      },
    ]);
  });

  it('writes a workflow that checks, validates and keeps one diff comment per pull request', () => {
    const dir = fresh();
    scaffold(dir, {});
    const workflow = parse(read(dir, '.github/workflows/mlops.yml'));
    expect(Object.keys(workflow.on)).toEqual(['pull_request', 'push']);
    expect(workflow.permissions['pull-requests']).toBe('write');
    const steps: { run?: string; uses?: string; if?: string; with?: Record<string, string> }[] =
      workflow.jobs.review.steps;
    const runs = steps.map((s) => s.run ?? '');
    const order = [
      'npm ci',
      'npx mlops synth --check',
      'npx mlops validate dist',
      'npx mlops diff --base',
    ].map((command) => runs.findIndex((r) => r.includes(command)));
    expect(order.every((i, n) => i >= 0 && (n === 0 || i > order[n - 1]))).toBe(true);
    expect(runs.find((r) => r.includes('mlops diff'))).toContain('--format markdown > diff.md');
    expect(steps.find((s) => s.uses?.startsWith('actions/checkout'))?.with?.['fetch-depth']).toBe(0);
    const comment = steps.at(-1);
    expect(comment?.uses).toMatch(/^actions\/github-script@/);
    expect(comment?.if).toBe("github.event_name == 'pull_request'");
    const script = comment?.with?.script ?? '';
    // one comment found again by its hidden marker, then updated; created only when absent
    expect(script).toContain("const marker = '<!-- mlops-diff -->'");
    expect(script).toMatch(/find\(\(c\) => c\.body\?\.startsWith\(marker\)\)/);
    expect(script).toContain('updateComment');
    expect(script).toContain('createComment');
  });

  it('writes one app per environment, sharing apps/_serving.ts (not an app itself)', () => {
    const dir = fresh();
    const files = scaffold(dir, { env: ['dev', 'staging', 'prod'] });
    expect(files.filter((f) => f.startsWith('apps/')).sort()).toEqual([
      'apps/_serving.ts',
      'apps/dev.ts',
      'apps/prod.ts',
      'apps/staging.ts',
    ]);
    expect(read(dir, 'apps/staging.ts')).toContain(
      "new Environment(app, 'staging', { namespace: 'ml-staging' })",
    );
    expect(read(dir, 'README.md')).toContain('`apps/prod.ts` → `dist/prod/`');
    expect(existsSync(join(dir, 'apps/main.ts'))).toBe(false);
  });

  it('refuses environment names that cannot name a folder and a namespace', () => {
    expect(() => scaffold(fresh(), { env: ['dev', 'Prod_1'] })).toThrow(
      /--env Prod_1: environment names are/,
    );
  });

  it('refuses a non-empty directory and says why, unless --force', () => {
    const dir = fresh();
    scaffold(dir, {});
    writeFileSync(join(dir, 'apps/main.ts'), '// mine\n');
    const refused = spawnSync('node', [join(ROOT, 'bin/mlops.js'), 'init', dir], { encoding: 'utf8' });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`${dir} is not empty (`);
    expect(refused.stderr).toContain('pass --force');
    expect(read(dir, 'apps/main.ts')).toBe('// mine\n');
    expect(() => scaffold(dir, {})).toThrow(CliError);
    scaffold(dir, { force: true });
    expect(read(dir, 'apps/main.ts')).toContain('new Server(');
  });
});
