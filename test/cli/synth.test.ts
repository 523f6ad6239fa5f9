import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { appSource, models, TempProject } from '../synth/temp-project.ts';

// Each case spawns the real CLI (node bin/mlops.js) in a throw-away project, as a user runs it;
// a spawn takes a second or two, several when the machine is busy.
vi.setConfig({ testTimeout: 90_000 });

function project(): TempProject {
  return new TempProject()
    .write('package.json', '{ "type": "module" }\n')
    .write('apps/_shared.ts', "export const storage = 'gs://models';\n")
    .write('apps/prod.ts', appSource(models('prod', 'iris', 'wine')))
    .write('apps/staging.ts', appSource(models('staging', 'iris')));
}

function snapshot(p: TempProject, dir: string): Record<string, string> {
  return Object.fromEntries(p.list(dir).map((f) => [f, p.read(`${dir}/${f}`)]));
}

describe('mlops synth', () => {
  it('synthesizes every app in apps/ to dist/<app>/, skipping helper files', () => {
    const p = project();
    const run = p.mlops('synth');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(p.list('dist')).toEqual(['prod', 'staging']);
    expect(p.list('dist/prod')).toEqual([
      '00-crds.yaml',
      'mlops.seldon.io_Model_prod_iris.yaml',
      'mlops.seldon.io_Model_prod_wine.yaml',
    ]);
    expect(p.read('dist/staging/mlops.seldon.io_Model_staging_iris.yaml')).toBe(
      [
        'apiVersion: mlops.seldon.io/v1alpha1',
        'kind: Model',
        'metadata:',
        '  name: iris',
        '  namespace: staging',
        'spec:',
        '  storageUri: gs://models/iris',
        '',
      ].join('\n'),
    );
    expect(run.stdout).toContain('dist/prod: 3 files (3 written, 0 removed, 0 unchanged)');
  });

  it('gives identical bytes on a second run and rewrites nothing', () => {
    const p = project();
    p.mlops('synth');
    const first = snapshot(p, 'dist/prod');
    const again = p.mlops('synth');
    expect(again.stdout).toContain('dist/prod: 3 files (0 written, 0 removed, 3 unchanged)');
    expect(snapshot(p, 'dist/prod')).toEqual(first);
  });

  it('removes stale files, keeps files it does not manage, and clears folders of deleted apps', () => {
    const p = project();
    p.mlops('synth');
    p.write('dist/prod/kustomization.yaml', 'resources: []\n');
    p.write('apps/prod.ts', appSource(models('prod', 'iris')));
    p.run('rm', ['apps/staging.ts']);
    const run = p.mlops('synth');
    expect(run.status).toBe(0);
    expect(p.list('dist/prod')).toEqual([
      '00-crds.yaml',
      'kustomization.yaml',
      'mlops.seldon.io_Model_prod_iris.yaml',
    ]);
    expect(p.list('dist')).toEqual(['prod']);
    expect(run.stdout).toContain('dist/staging: removed 2 files of an app that no longer exists');
  });

  it('--target seldon writes only the mlops.seldon.io resources', () => {
    const p = project();
    expect(p.mlops('synth', '--target', 'seldon').status).toBe(0);
    expect(p.list('dist/prod')).toEqual([
      'mlops.seldon.io_Model_prod_iris.yaml',
      'mlops.seldon.io_Model_prod_wine.yaml',
    ]);
  });

  it('--app FILE --out DIR writes that one app straight into DIR', () => {
    const p = project();
    expect(p.mlops('synth', '--app', 'apps/staging.ts', '--out', 'out/here').status).toBe(0);
    expect(p.list('out/here')).toEqual(['00-crds.yaml', 'mlops.seldon.io_Model_staging_iris.yaml']);
    expect(p.list('dist')).toEqual([]);
  });
});

describe('app files anywhere', () => {
  it('loads an app outside any project, without package.json or node_modules', () => {
    const p = project();
    const bare = mkdtempSync(join(tmpdir(), 'mlops-bare-'));
    writeFileSync(join(bare, 'generated.ts'), appSource(models('gen', 'iris')));
    const run = p.mlops('synth', '--app', join(bare, 'generated.ts'), '--out', join(bare, 'out'));
    expect(run.stderr).toBe('');
    expect(readdirSync(join(bare, 'out')).sort()).toEqual([
      '00-crds.yaml',
      'mlops.seldon.io_Model_gen_iris.yaml',
    ]);
  });
});

describe('mlops synth --check', () => {
  it('exits 0 when dist is fresh and 1 when a file was edited, removed or added', () => {
    const p = project();
    p.mlops('synth');
    p.write('dist/prod/kustomization.yaml', 'resources: []\n');
    const fresh = p.mlops('synth', '--check');
    expect(fresh.status).toBe(0);
    expect(fresh.stdout).toContain('dist/prod: up to date (3 files)');

    const iris = 'dist/prod/mlops.seldon.io_Model_prod_iris.yaml';
    p.write(iris, p.read(iris).replace('gs://models/iris', 'gs://models/other'));
    p.run('rm', ['dist/prod/mlops.seldon.io_Model_prod_wine.yaml']);
    p.write('dist/prod/core_ConfigMap_prod_extra.yaml', 'kind: ConfigMap\n');
    const stale = p.mlops('synth', '--check');
    expect(stale.status).toBe(1);
    expect(stale.stdout).toContain(
      [
        'dist/prod: out of date',
        '  missing  mlops.seldon.io_Model_prod_wine.yaml',
        '  changed  mlops.seldon.io_Model_prod_iris.yaml',
        '  stale    core_ConfigMap_prod_extra.yaml',
      ].join('\n'),
    );
    expect(stale.stdout).toContain('dist/staging: up to date');
    expect(stale.stderr).toContain('run `npx mlops synth`');
    expect(p.read(iris)).toContain('gs://models/other');
  });

  it('exits 1 when dist holds the output of an app that no longer exists', () => {
    const p = project();
    p.mlops('synth');
    p.run('rm', ['apps/staging.ts']);
    const run = p.mlops('synth', '--check');
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('dist/staging: output of an app that no longer exists');
  });
});

describe('mlops synth errors', () => {
  const invalid = [
    "import { ApiObject } from 'cdk8s';",
    "import { Environment, MlopsApp, Model } from 'cdk8s-mlops';",
    'const app = new MlopsApp();',
    "const prod = new Environment(app, 'prod', { namespace: 'prod' });",
    "new Model(prod, 'iris', { storageUri: 'gs://models/iris', memory: '12XB' });",
    "new Model(prod, 'Wine_Model', { storageUri: 'gs://models/wine' });",
    "const cfg = new ApiObject(prod, 'cfg', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' } });",
    "cfg.node.addValidation({ validate: () => ['data must not be empty'] });",
    'app.synth();',
    '',
  ].join('\n');

  it('reports every problem of every app with path, field, value and fix, exits 1 and writes nothing', () => {
    const p = project();
    p.mlops('synth');
    const before = snapshot(p, 'dist/prod');
    p.write('apps/prod.ts', invalid);
    const run = p.mlops('synth');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('apps/prod.ts: synthesis failed, 3 problems found:');
    expect(run.stderr).toContain(
      'prod/Wine_Model\n  field:   name\n  value:   "Wine_Model"\n  problem: Model name must consist of',
    );
    expect(run.stderr).toMatch(
      /prod\/iris\n {2}field: {3}memory\n {2}value: {3}"12XB"\n {2}problem: .+\n {2}fix: {5}.+512Mi/,
    );
    expect(run.stderr).toContain('prod/cfg\n  field:   (construct)\n  problem: data must not be empty');
    expect(run.stderr).toContain('Nothing was written.');
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(snapshot(p, 'dist/prod')).toEqual(before);
    expect(p.list('dist/staging')).toHaveLength(2);
  });

  it('refuses output that mlops validate would report, with object, field and fix, and writes nothing', () => {
    const p = project();
    p.mlops('synth');
    const before = snapshot(p, 'dist/prod');
    const pinned =
      "new ApiObject(chart, 'pinned', { apiVersion: 'mlops.seldon.io/v1alpha1', kind: 'Model', metadata: { name: 'pinned' }, spec: { storageUri: 'gs://m', server: 'nope' } });";
    p.write('apps/prod.ts', appSource(`${models('prod', 'iris')}\n${pinned}`));
    const run = p.mlops('synth');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /prod\/pinned\n {2}field: {3}spec\.server\n {2}problem: Model prod\/pinned \(mlops\.seldon\.io_Model_prod_pinned\.yaml\): pinned to Server "nope" is not in this set.*\n {2}fix: {5}add it, or mark it declared elsewhere/,
    );
    expect(run.stderr).toContain('Nothing was written.');
    expect(snapshot(p, 'dist/prod')).toEqual(before);
    // What synthesis accepts, validate accepts.
    const valid = p.mlops('validate', 'dist');
    expect(valid.stdout).toContain('no findings');
    expect(valid.status).toBe(0);
  });

  it('shows stack traces only with --verbose', () => {
    const p = project().write('apps/staging.ts', appSource("throw new Error('staging is broken');"));
    const run = p.mlops('--verbose', 'synth');
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/Error: staging is broken\n\s+at /);
  });

  it('exits 2 on usage errors', () => {
    const p = project();
    const target = p.mlops('synth', '--target', 'kubernetes');
    expect(target.status).toBe(2);
    expect(target.stderr).toContain("'kubernetes' is invalid");
    const missing = p.mlops('synth', '--app', 'apps/nope.ts');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('--app apps/nope.ts: no such file');
    p.write('apps/prod.mts', appSource(models('prod', 'iris')));
    const clash = p.mlops('synth');
    expect(clash.status).toBe(2);
    expect(clash.stderr).toContain('apps/prod.mts and apps/prod.ts would both write dist/prod: rename one');
    p.run('rm', ['-r', 'apps']);
    const none = p.mlops('synth');
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('no apps found');
  });
});

describe('mlops synth runs each app in a process of its own', () => {
  it('exits 2 on an app that throws, naming the file and line, and writes nothing', () => {
    const p = project();
    p.mlops('synth');
    const before = snapshot(p, 'dist/prod');
    p.write('apps/prod.ts', appSource(models('prod', 'iris', 'wine', 'new')));
    p.write('apps/staging.ts', appSource("\nthrow new Error('staging is broken');"));
    const run = p.mlops('synth');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('apps/staging.ts: staging is broken (thrown at apps/staging.ts:6)');
    expect(run.stderr).toContain('Nothing was written.');
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(snapshot(p, 'dist/prod')).toEqual(before);
  });

  it('treats an app that exits before it is synthesized as an error, with and without --check', () => {
    const p = project().write('apps/staging.ts', appSource(`${models('staging', 'iris')}\nprocess.exit(0);`));
    for (const args of [['synth'], ['synth', '--check']]) {
      const run = p.mlops(...args);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr).toContain('apps/staging.ts: the app exited with status 0 before it was synthesized');
      expect(p.list('dist')).toEqual([]);
    }
  });

  it('stops an app that does not finish within --timeout, and rejects a bad --timeout', () => {
    const p = project().write('apps/staging.ts', appSource('while (true) {}'));
    const run = p.mlops('synth', '--timeout', '3');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('apps/staging.ts: did not finish within 3 s');
    expect(run.stderr).toContain('--timeout SECONDS');
    expect(p.list('dist')).toEqual([]);
    const bad = p.mlops('synth', '--timeout', 'soon');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--timeout soon: give a number of seconds above 0');
  });
});

describe('mlops synth writes dist/ as one folder', () => {
  it('clears what a killed run left: temporary folders, and per-file temporaries it kept before', () => {
    const p = project();
    p.mlops('synth');
    // A run killed (kill -9) while building dist/ beside it, and an older one killed mid-file.
    p.write('.dist.tmp-999999999/prod/mlops.seldon.io_Model_prod_iris.yaml', 'half');
    p.write('dist/prod/.mlops.seldon.io_Model_prod_iris.yaml.4242.tmp', 'half');
    const run = p.mlops('synth');
    expect(run.status).toBe(0);
    expect(p.list('.').filter((f) => f.startsWith('.dist'))).toEqual([]);
    expect(p.list('dist/prod').filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('puts the old dist/ back when a run was killed between swapping it out and in', () => {
    const p = project();
    p.mlops('synth');
    p.write('dist/prod/kustomization.yaml', 'resources: []\n');
    p.run('mv', ['dist', '.dist.old-999999999']);
    const run = p.mlops('synth');
    expect(run.status).toBe(0);
    expect(p.read('dist/prod/kustomization.yaml')).toBe('resources: []\n');
    expect(p.list('.').filter((f) => f.startsWith('.dist'))).toEqual([]);
    expect(run.stdout).toContain('dist/prod: 3 files (0 written, 0 removed, 3 unchanged)');
  });

  it('replaces dist/ as a whole folder (a new inode), not file by file', () => {
    const p = project();
    p.mlops('synth');
    const inode = p.run('sh', ['-c', 'ls -id dist | cut -d" " -f1']).stdout.trim();
    p.write('apps/prod.ts', appSource(models('prod', 'iris')));
    expect(p.mlops('synth').status).toBe(0);
    expect(p.run('sh', ['-c', 'ls -id dist | cut -d" " -f1']).stdout.trim()).not.toBe(inode);
    expect(p.list('dist/prod')).toEqual(['00-crds.yaml', 'mlops.seldon.io_Model_prod_iris.yaml']);
  });
});

describe('running an app file directly', () => {
  const tsx = new URL('../../node_modules/.bin/tsx', import.meta.url).pathname;

  it('writes dist/<app>/, or $CDK8S_OUTDIR when set', () => {
    const p = project();
    expect(p.run(tsx, ['apps/prod.ts']).status).toBe(0);
    expect(p.list('dist/prod')).toEqual([
      '00-crds.yaml',
      'mlops.seldon.io_Model_prod_iris.yaml',
      'mlops.seldon.io_Model_prod_wine.yaml',
    ]);
    expect(p.run(tsx, ['apps/staging.ts'], { CDK8S_OUTDIR: 'elsewhere' }).status).toBe(0);
    expect(p.list('elsewhere')).toEqual(['00-crds.yaml', 'mlops.seldon.io_Model_staging_iris.yaml']);
  });
});
