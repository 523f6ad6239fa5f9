import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  diffOutput,
  isUpToDate,
  managedFileCount,
  outputFolders,
  writeOutput,
  writeOutputs,
} from '../../src/synth/output.ts';

let dir: string;
beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), 'mlops-output-')), 'app');
});

const files = new Map([
  ['00-crds.yaml', 'crds\n'],
  ['core_ConfigMap_ns_a.yaml', 'a\n'],
]);

describe('writeOutput', () => {
  it('creates the folder and writes every file', () => {
    const diff = writeOutput(dir, files);
    expect(diff.missing).toEqual(['00-crds.yaml', 'core_ConfigMap_ns_a.yaml']);
    expect(readdirSync(dir).sort()).toEqual(['00-crds.yaml', 'core_ConfigMap_ns_a.yaml']);
    expect(readFileSync(join(dir, 'core_ConfigMap_ns_a.yaml'), 'utf8')).toBe('a\n');
  });

  it('removes stale managed files, rewrites changed ones and leaves other files alone', () => {
    writeOutput(dir, files);
    writeFileSync(join(dir, 'core_ConfigMap_ns_old.yaml'), 'old\n');
    writeFileSync(join(dir, 'kustomization.yaml'), 'resources: []\n');
    const next = new Map([
      ['00-crds.yaml', 'crds\n'],
      ['core_ConfigMap_ns_a.yaml', 'a2\n'],
    ]);
    const diff = writeOutput(dir, next);
    expect(diff).toEqual({
      missing: [],
      changed: ['core_ConfigMap_ns_a.yaml'],
      stale: ['core_ConfigMap_ns_old.yaml'],
    });
    expect(readdirSync(dir).sort()).toEqual([
      '00-crds.yaml',
      'core_ConfigMap_ns_a.yaml',
      'kustomization.yaml',
    ]);
    expect(readFileSync(join(dir, 'core_ConfigMap_ns_a.yaml'), 'utf8')).toBe('a2\n');
  });

  it('does not touch files whose contents are already right', () => {
    writeOutput(dir, files);
    const file = join(dir, '00-crds.yaml');
    utimesSync(file, new Date(2000, 0, 1), new Date(2000, 0, 1));
    writeOutput(dir, files);
    expect(statSync(file).mtime.getFullYear()).toBe(2000);
  });
});

describe('diffOutput', () => {
  it('reports missing, changed and stale files', () => {
    expect(isUpToDate(diffOutput(dir, files))).toBe(false);
    writeOutput(dir, files);
    expect(isUpToDate(diffOutput(dir, files))).toBe(true);
    writeFileSync(join(dir, '00-crds.yaml'), 'edited\n');
    writeFileSync(join(dir, 'core_Secret_ns_extra.yaml'), 'x\n');
    expect(diffOutput(dir, new Map([...files, ['core_ConfigMap_ns_b.yaml', 'b\n']]))).toEqual({
      missing: ['core_ConfigMap_ns_b.yaml'],
      changed: ['00-crds.yaml'],
      stale: ['core_Secret_ns_extra.yaml'],
    });
  });
});

describe('output folders', () => {
  it('finds folders holding only managed files and clears them', () => {
    const root = join(dir, '..');
    writeOutput(dir, files);
    mkdirSync(join(root, 'notes'));
    writeFileSync(join(root, 'notes', 'todo.yaml'), 'x: 1\n');
    mkdirSync(join(root, 'mixed'));
    writeFileSync(join(root, 'mixed', 'core_ConfigMap_ns_a.yaml'), 'a\n');
    writeFileSync(join(root, 'mixed', 'README.md'), 'mine\n');
    expect(outputFolders(root)).toEqual(['app']);
    rmSync(join(root, 'mixed'), { recursive: true });
    expect(managedFileCount(dir)).toBe(2);
    writeOutputs(root, new Map([['next', files]]), ['app']);
    expect(readdirSync(root).sort()).toEqual(['next', 'notes']);
    expect(readFileSync(join(root, 'notes', 'todo.yaml'), 'utf8')).toBe('x: 1\n');
  });
});
