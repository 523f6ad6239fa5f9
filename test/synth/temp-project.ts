import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * A throw-away project outside the repository whose apps import `cdk8s-mlops`, `cdk8s` and
 * `constructs` by name, as a user's project does (the packages are linked, not copied).
 */
export class TempProject {
  readonly dir = mkdtempSync(join(tmpdir(), 'mlops-synth-'));

  constructor() {
    mkdirSync(join(this.dir, 'node_modules'));
    symlinkSync(ROOT, join(this.dir, 'node_modules', 'cdk8s-mlops'), 'dir');
    for (const pkg of ['cdk8s', 'constructs']) {
      symlinkSync(join(ROOT, 'node_modules', pkg), join(this.dir, 'node_modules', pkg), 'dir');
    }
  }

  write(path: string, text: string): this {
    mkdirSync(dirname(join(this.dir, path)), { recursive: true });
    writeFileSync(join(this.dir, path), text);
    return this;
  }

  read(path: string): string {
    return readFileSync(join(this.dir, path), 'utf8');
  }

  /** File names in a folder of the project, sorted; [] if it does not exist. */
  list(path: string): string[] {
    try {
      return readdirSync(join(this.dir, path)).sort();
    } catch {
      return [];
    }
  }

  /** Runs the real `mlops` CLI in the project. */
  mlops(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    return this.run(process.execPath, [join(ROOT, 'bin', 'mlops.js'), ...args]);
  }

  run(command: string, args: string[], env: Record<string, string> = {}) {
    const { CDK8S_OUTDIR: _, ...inherited } = process.env;
    const result = spawnSync(command, args, {
      cwd: this.dir,
      encoding: 'utf8',
      env: { ...inherited, ...env },
      timeout: 60_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }
}

/** An app file with the given body between `new MlopsApp()` and `app.synth()`. */
export function appSource(body: string, imports = ''): string {
  return [
    "import { ApiObject, Chart } from 'cdk8s';",
    "import { MlopsApp } from 'cdk8s-mlops';",
    imports,
    'const app = new MlopsApp();',
    body,
    'app.synth();',
    '',
  ].join('\n');
}

/** Body declaring Model objects in a namespaced chart. */
export function models(namespace: string, ...names: string[]): string {
  return [
    `const chart = new Chart(app, '${namespace}', { namespace: '${namespace}' });`,
    ...names.map(
      (n) =>
        `new ApiObject(chart, '${n}', { apiVersion: 'mlops.seldon.io/v1alpha1', kind: 'Model', metadata: { name: '${n}' }, spec: { storageUri: 'gs://models/${n}' } });`,
    ),
  ].join('\n');
}
