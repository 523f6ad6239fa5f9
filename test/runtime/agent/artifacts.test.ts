import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactCache, selectVersionFolder } from '../../../src/runtime/agent/artifacts.ts';
import type { ModelDefinition } from '../../../src/runtime/protocol/control.ts';

const def = (over: Partial<ModelDefinition>): ModelDefinition => ({
  name: 'iris',
  namespace: '',
  version: 3,
  storageUri: '',
  artifactVersion: 0,
  requirements: [],
  memoryBytes: 0,
  server: '',
  parameters: [],
  secretName: '',
  ...over,
});

let dir: string;
let server: http.Server;
let base: string;

function modelFolder(path: string, marker: string): void {
  mkdirSync(path, { recursive: true });
  writeFileSync(
    join(path, 'model-settings.json'),
    JSON.stringify({ name: 'orig', implementation: 'x', parameters: { uri: './m' } }),
  );
  writeFileSync(join(path, 'm'), marker);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlops-artifacts-'));
  modelFolder(join(dir, 'flat'), 'flat');
  modelFolder(join(dir, 'versioned', '1'), 'one');
  modelFolder(join(dir, 'versioned', '2'), 'two');
  execFileSync('tar', ['-czf', join(dir, 'flat.tar.gz'), '-C', join(dir, 'flat'), '.']);
  server = http.createServer((req, res) => {
    if (req.url === '/flat.tar.gz') res.end(readFileSync(join(dir, 'flat.tar.gz')));
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ArtifactCache', () => {
  it('copies a file:// folder under the internal name and renames the model', async () => {
    const cache = new ArtifactCache(join(dir, 'c1'), join(dir, 'models1'));
    const out = await cache.prepare(
      def({ storageUri: pathToFileURL(join(dir, 'flat')).href, parameters: [{ name: 'k', value: 'v' }] }),
    );
    expect(out).toBe(join(dir, 'models1', 'iris_3'));
    const settings = JSON.parse(readFileSync(join(out, 'model-settings.json'), 'utf8'));
    expect(settings).toMatchObject({
      name: 'iris_3',
      implementation: 'x',
      parameters: { uri: './m', extra: { k: 'v' } },
    });
    cache.remove(def({}));
    expect(() => readFileSync(join(out, 'm'))).toThrow();
  });

  it('downloads and unpacks an http(s) tar.gz', async () => {
    const cache = new ArtifactCache(join(dir, 'c2'), join(dir, 'models2'));
    const out = await cache.prepare(def({ storageUri: `${base}/flat.tar.gz` }));
    expect(readFileSync(join(out, 'm'), 'utf8')).toBe('flat');
  });

  it('explains what went wrong', async () => {
    const cache = new ArtifactCache(join(dir, 'c3'), join(dir, 'models3'));
    await expect(cache.prepare(def({ storageUri: `${base}/nope.tgz` }))).rejects.toThrow(
      `downloading ${base}/nope.tgz failed: HTTP 404`,
    );
    await expect(cache.prepare(def({ storageUri: 'file:///does/not/exist' }))).rejects.toThrow(
      'artifact file:///does/not/exist not found',
    );
    await expect(cache.prepare(def({ storageUri: 's3://bucket/x' }))).rejects.toThrow(
      'unsupported storage URI s3://bucket/x: use file:// or http(s)://',
    );
  });
});

describe('selectVersionFolder', () => {
  it('takes a top-level model, the requested version, or the highest', () => {
    expect(selectVersionFolder(join(dir, 'flat'), def({}))).toBe(join(dir, 'flat'));
    expect(selectVersionFolder(join(dir, 'versioned'), def({}))).toBe(join(dir, 'versioned', '2'));
    expect(selectVersionFolder(join(dir, 'versioned'), def({ artifactVersion: 1 }))).toBe(
      join(dir, 'versioned', '1'),
    );
    expect(() =>
      selectVersionFolder(join(dir, 'versioned'), def({ artifactVersion: 7, storageUri: 'u' })),
    ).toThrow('artifact u has no version folder 7 (found: 1, 2)');
  });
});
