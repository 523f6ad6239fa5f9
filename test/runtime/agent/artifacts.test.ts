import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactError } from '../../../src/runtime/agent/artifact-errors.ts';
import type { ArtifactSource } from '../../../src/runtime/agent/artifact-source.ts';
import { ArtifactCache, selectVersionFolder } from '../../../src/runtime/agent/artifacts.ts';
import { AgentMetrics } from '../../../src/runtime/agent/metrics.ts';
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
      `Model iris: downloading ${base}/nope.tgz failed: HTTP 404. Fix: check spec.storageUri`,
    );
    await expect(cache.prepare(def({ storageUri: 'file:///does/not/exist' }))).rejects.toThrow(
      'Model iris: cannot fetch file:///does/not/exist: no such file or folder',
    );
    await expect(cache.prepare(def({ storageUri: 's3://bucket/x' }))).rejects.toThrow(
      'Model iris: unsupported storage URI s3://bucket/x. Fix: use s3://, gs://, az://, http(s):// or file://',
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
    ).toThrow('Model iris: artifact u has no version folder 7 (found: 1, 2)');
  });
});

/** A source that fails `failures` times (transiently, or for good), then writes a model folder. */
function flakySource(failures: number, failure: 'transient' | 'access-denied' = 'transient') {
  const calls: string[] = [];
  let running = 0;
  let peak = 0;
  const source: ArtifactSource = {
    handles: (uri) => uri.startsWith('fake://'),
    async fetch(req, dest) {
      calls.push(req.uri);
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 20));
      running--;
      if (calls.filter((u) => u === req.uri).length <= failures) {
        writeFileSync(join(dest, 'half-written'), 'x');
        throw new ArtifactError(failure, `Model ${req.model}: cannot fetch ${req.uri}: ${failure}`);
      }
      modelFolder(dest, req.uri);
    },
  };
  return { source, calls, peak: () => peak };
}

const fast = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 };

describe('ArtifactCache downloads', () => {
  it('retries transient failures with backoff and keeps no partial folder', async () => {
    const { source, calls } = flakySource(2);
    const cache = new ArtifactCache(join(dir, 'r1'), join(dir, 'rm1'), { sources: [source], retry: fast });
    const out = await cache.prepare(def({ storageUri: 'fake://a' }));
    expect(calls).toEqual(['fake://a', 'fake://a', 'fake://a']);
    expect(readFileSync(join(out, 'm'), 'utf8')).toBe('fake://a');
    expect(readdirSync(join(dir, 'r1', 'downloads')).filter((d) => d.endsWith('.partial'))).toEqual([]);
  });

  it('gives up after the last try, and at once on a permanent failure', async () => {
    const transient = flakySource(9);
    const cache = new ArtifactCache(join(dir, 'r2'), join(dir, 'rm2'), {
      sources: [transient.source],
      retry: fast,
    });
    await expect(cache.prepare(def({ storageUri: 'fake://b' }))).rejects.toThrow(
      'Model iris: cannot fetch fake://b: transient (after 3 tries)',
    );
    expect(transient.calls).toHaveLength(3);
    const denied = flakySource(9, 'access-denied');
    const metrics = new AgentMetrics();
    const cache2 = new ArtifactCache(join(dir, 'r3'), join(dir, 'rm3'), {
      sources: [denied.source],
      retry: fast,
      metrics,
    });
    await expect(cache2.prepare(def({ storageUri: 'fake://c' }))).rejects.toThrow('access-denied');
    expect(denied.calls).toHaveLength(1);
    expect(readdirSync(join(dir, 'r3', 'downloads'))).toEqual([]);
    expect(await metrics.registry.getSingleMetricAsString('mlops_agent_artifact_downloads_total')).toContain(
      'mlops_agent_artifact_downloads_total{result="access-denied"} 1',
    );
  });

  it('bounds concurrent downloads and shares one download between models', async () => {
    const { source, calls, peak } = flakySource(0);
    const cache = new ArtifactCache(join(dir, 'r4'), join(dir, 'rm4'), {
      sources: [source],
      maxConcurrent: 2,
    });
    const uris = ['fake://1', 'fake://2', 'fake://3', 'fake://4', 'fake://5'];
    await Promise.all([
      ...uris.map((u, i) => cache.prepare(def({ name: `m${i}`, storageUri: u }))),
      cache.prepare(def({ name: 'again', storageUri: 'fake://1' })),
    ]);
    expect(peak()).toBe(2);
    expect(calls.sort()).toEqual(uris);
    // Another Secret is another download: no model gets files fetched with another's credentials.
    await cache.prepare(def({ name: 'other', storageUri: 'fake://1', secretName: 'other-creds' }));
    expect(calls.filter((u) => u === 'fake://1')).toHaveLength(2);
  });

  it('reuses a finished download after a restart, keyed by URI and artifact version', async () => {
    const first = flakySource(0);
    const d = def({ storageUri: 'fake://v', artifactVersion: 0 });
    await new ArtifactCache(join(dir, 'r5'), join(dir, 'rm5'), { sources: [first.source] }).prepare(d);
    // A download interrupted by the stop is not taken for a finished one.
    mkdirSync(join(dir, 'r5', 'downloads', 'deadbeef.partial'));
    const second = flakySource(0);
    const restarted = new ArtifactCache(join(dir, 'r5'), join(dir, 'rm5'), { sources: [second.source] });
    expect(readdirSync(join(dir, 'r5', 'downloads')).some((n) => n.endsWith('.partial'))).toBe(false);
    await restarted.prepare(d);
    expect(second.calls).toEqual([]);
    expect(restarted.downloadDir(d)).not.toBe(restarted.downloadDir({ ...d, artifactVersion: 2 }));
    // Unloading the last model using a download removes it.
    restarted.remove(d);
    expect(readdirSync(join(dir, 'r5', 'downloads'))).toEqual([]);
  });
});

describe('model-settings.json', () => {
  it('gives explainers and LLM models the inference URI of their target and the explainer type', async () => {
    const cache = new ArtifactCache(join(dir, 'e1'), join(dir, 'em1'), { gateway: 'mlops-gateway:9000' });
    const uri = pathToFileURL(join(dir, 'flat')).href;
    const explainer = await cache.prepare(
      def({
        name: 'income-explainer',
        storageUri: uri,
        explainer: { type: 'anchor_tabular', modelRef: 'income', pipelineRef: '' },
      }),
    );
    expect(JSON.parse(readFileSync(join(explainer, 'model-settings.json'), 'utf8')).parameters.extra).toEqual(
      {
        infer_uri: 'http://mlops-gateway:9000/v2/models/income/infer',
        explainer_type: 'anchor_tabular',
      },
    );
    const llm = await cache.prepare(
      def({ name: 'chat', storageUri: uri, llm: { modelRef: '', pipelineRef: 'rag' } }),
    );
    expect(JSON.parse(readFileSync(join(llm, 'model-settings.json'), 'utf8')).parameters.extra).toEqual({
      infer_uri: 'http://mlops-gateway:9000/v2/pipelines/rag/infer',
    });
    const noGateway = new ArtifactCache(join(dir, 'e2'), join(dir, 'em2'));
    await expect(
      noGateway.prepare(
        def({ storageUri: uri, explainer: { type: 'anchor_tabular', modelRef: 'income', pipelineRef: '' } }),
      ),
    ).rejects.toThrow('Fix: start the agent with --gateway HOST:PORT');
  });
});
