import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ApiObject, Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { Environment } from '../../src/constructs/environment.ts';
import { Model } from '../../src/constructs/model.ts';
import { MlopsApp } from '../../src/synth/app.ts';
import { AppLoadError, discoverApps, loadApp } from '../../src/synth/load-apps.ts';
import { collectApps, isLoadingApps } from '../../src/synth/registry.ts';
import { SynthError } from '../../src/synth/synthesize.ts';

const appModule = pathToFileURL(join(import.meta.dirname, '..', '..', 'src', 'synth', 'app.ts')).href;
const cdk8sModule = pathToFileURL(require.resolve('cdk8s')).href;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'mlops-app-'));
}

function writeApp(dir: string, name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `import { MlopsApp } from '${appModule}';\nimport cdk8s from '${cdk8sModule}';\nconst { App, Chart, ApiObject } = cdk8s;\n${body}\n`,
  );
  return file;
}

describe('MlopsApp', () => {
  it('synth() writes its output folder when run directly', () => {
    const outdir = tempDir();
    const app = new MlopsApp({ outdir });
    const chart = new Chart(app, 'prod', { namespace: 'prod' });
    new ApiObject(chart, 'cfg', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' } });
    app.synth();
    expect(readdirSync(outdir).sort()).toEqual(['00-crds.yaml', 'core_ConfigMap_prod_cfg.yaml']);
  });

  it('synth() refuses, writing nothing, what mlops validate would report on its output', () => {
    const outdir = join(tempDir(), 'out');
    const app = new MlopsApp({ outdir });
    const chart = new Chart(app, 'prod', { namespace: 'prod' });
    new ApiObject(chart, 'web', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web' },
      spec: { containers: [{ name: 'web', image: 'nginx:1.27', imagePullPolicyy: 'Always' }] },
    });
    expect(() => app.synth()).toThrow(/unknown field "imagePullPolicyy"/);
    expect(() => readdirSync(outdir)).toThrow(/ENOENT/);
  });

  it('synth() throws every problem at once and writes nothing when the app is invalid', () => {
    const outdir = join(tempDir(), 'out');
    const app = new MlopsApp({ outdir });
    const env = new Environment(app, 'prod', { namespace: 'prod' });
    new Model(env, 'iris', { storageUri: 'gs://m/iris', memory: 'lots' });
    new Model(env, 'Wine', { storageUri: 'gs://m/wine' });
    expect(() => app.synth()).toThrow(SynthError);
    try {
      app.synth();
    } catch (err) {
      expect((err as SynthError).findings.map((f) => [f.path, f.field])).toEqual([
        ['prod/Wine', 'name'],
        ['prod/iris', 'memory'],
      ]);
    }
    expect(() => readdirSync(outdir)).toThrow(/ENOENT/);
  });

  it('synth() does nothing while the CLI is loading apps, and the app is registered', async () => {
    const outdir = join(tempDir(), 'out');
    const { apps, result } = await collectApps(async () => {
      expect(isLoadingApps()).toBe(true);
      const app = new MlopsApp({ outdir });
      app.synth();
      return app;
    });
    expect(apps).toEqual([result]);
    expect(isLoadingApps()).toBe(false);
    expect(() => readdirSync(outdir)).toThrow(/ENOENT/);
  });
});

describe('loadApp', () => {
  it('returns the MlopsApp a module creates', async () => {
    const file = writeApp(
      tempDir(),
      'one.ts',
      "const app = new MlopsApp(); new Chart(app, 'c'); app.synth();",
    );
    const app = await loadApp(file);
    expect(app).toBeInstanceOf(MlopsApp);
    expect(app.node.children.map((c) => c.node.id)).toEqual(['c']);
  });

  it('prefers the default export, which may be a plain cdk8s App', async () => {
    const file = writeApp(
      tempDir(),
      'plain.ts',
      "const app = new App(); new Chart(app, 'plain'); export default app;",
    );
    const app = await loadApp(file);
    expect(app).not.toBeInstanceOf(MlopsApp);
    expect(app.node.children.map((c) => c.node.id)).toEqual(['plain']);
  });

  it('explains a module without an app, or with two', async () => {
    const dir = tempDir();
    await expect(loadApp(writeApp(dir, 'none.ts', 'export const x = 1;'))).rejects.toThrow(
      /none\.ts: defines no app/,
    );
    await expect(loadApp(writeApp(dir, 'two.ts', 'new MlopsApp(); new MlopsApp();'))).rejects.toThrow(
      /two\.ts: creates 2 apps/,
    );
  });

  it('wraps what the module throws, naming the file', async () => {
    const file = writeApp(tempDir(), 'throws.ts', "throw new Error('bad memory prop');");
    const error = await loadApp(file).catch((e) => e);
    expect(error).toBeInstanceOf(AppLoadError);
    expect(error.message).toBe(`${file}: bad memory prop`);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('refuses a missing file', async () => {
    await expect(loadApp(join(tempDir(), 'nope.ts'))).rejects.toThrow(/nope\.ts: no such file/);
  });
});

describe('discoverApps', () => {
  it('lists app modules by name, skipping helpers, declarations and tests', () => {
    const dir = tempDir();
    for (const f of ['prod.ts', 'dev.mts', '_shared.ts', 'types.d.ts', 'prod.test.ts', 'notes.md']) {
      writeFileSync(join(dir, f), '');
    }
    expect(discoverApps(dir)).toEqual([
      { name: 'dev', file: join(dir, 'dev.mts') },
      { name: 'prod', file: join(dir, 'prod.ts') },
    ]);
    expect(discoverApps(join(dir, 'missing'))).toEqual([]);
  });
});
