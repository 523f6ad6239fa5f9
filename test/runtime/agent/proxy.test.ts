import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactCache } from '../../../src/runtime/agent/artifacts.ts';
import { AgentMetrics } from '../../../src/runtime/agent/metrics.ts';
import { ModelManager } from '../../../src/runtime/agent/model-manager.ts';
import { createRestProxy } from '../../../src/runtime/agent/proxy.ts';
import type { ModelServer } from '../../../src/runtime/agent/repository-client.ts';
import { overrideNameField, readNameField } from '../../../src/runtime/oip/grpc-wire.ts';

/** An inference server stand-in: answers infer calls for the models it has loaded, 404 otherwise. */
function fakeUpstream() {
  const loaded = new Set<string>();
  const seen: string[] = [];
  const served = new WeakMap<object, number>();
  const opts = { resetReusedConnections: false };
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const count = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, count);
    // Like a server whose idle timeout fired as the request arrived: the connection is reset.
    if (opts.resetReusedConnections && count > 1) return void req.socket.resetAndDestroy();
    const m = /^\/v2\/models\/([^/]+)\/infer$/.exec(req.url ?? '');
    if (m && loaded.has(m[1])) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ model_name: m[1] }));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'Model not found' }));
    }
  });
  const control: ModelServer = {
    load: async (n) => void loaded.add(n),
    unload: async (n) => void loaded.delete(n),
    ready: async () => true,
  };
  return { server, loaded, seen, control, opts };
}

let dir: string;
let up: ReturnType<typeof fakeUpstream>;
let proxy: http.Server;
let base: string;
let manager: ModelManager;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlops-proxy-'));
  mkdirSync(join(dir, 'art'));
  writeFileSync(join(dir, 'art', 'model-settings.json'), '{}');
  up = fakeUpstream();
  await new Promise<void>((r) => up.server.listen(0, '127.0.0.1', r));
  const metrics = new AgentMetrics();
  manager = new ModelManager({
    cache: new ArtifactCache(join(dir, 'cache'), join(dir, 'models')),
    server: up.control,
    metrics,
    log: pino({ level: 'silent' }),
    memoryBytes: 10,
    minResidencyMs: 0,
  });
  const upstream = `http://127.0.0.1:${(up.server.address() as AddressInfo).port}`;
  proxy = createRestProxy({ manager, upstream, metrics, log: pino({ level: 'silent' }) });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterEach(async () => {
  proxy.close();
  up.server.close();
  rmSync(dir, { recursive: true, force: true });
});

const load = (name: string, version = 1) =>
  manager.load({
    name,
    namespace: '',
    version,
    storageUri: pathToFileURL(join(dir, 'art')).href,
    artifactVersion: 0,
    requirements: [],
    memoryBytes: 10,
    server: '',
    parameters: [],
    secretName: '',
  });

const infer = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: '{}',
  });

describe('REST proxy', () => {
  it('rewrites to the internal name, reloading an evicted model first', async () => {
    await load('a');
    await load('b'); // evicts a (memory for one)
    expect(up.loaded.has('a_1')).toBe(false);
    const r = await infer('/v2/models/a/infer');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ model_name: 'a_1' });
    expect(r.headers.get('x-request-id')).toBeTruthy();
    expect(up.loaded.has('a_1')).toBe(true);
  });

  it('honours the gateway header and the versions segment', async () => {
    await load('a', 1);
    await load('a', 2);
    const viaHeader = await infer('/v2/models/a/versions/9/infer', {
      'seldon-internal-model': 'a_1',
      'x-request-id': 'r1',
    });
    expect(await viaHeader.json()).toEqual({ model_name: 'a_1' });
    expect(viaHeader.headers.get('x-request-id')).toBe('r1');
    expect(await (await infer('/v2/models/a/infer')).json()).toEqual({ model_name: 'a_2' });
  });

  it('reloads and retries once when the server lost the model', async () => {
    await load('a');
    up.loaded.clear(); // the server restarted
    const r = await infer('/v2/models/a/infer');
    expect(r.status).toBe(200);
    expect(up.seen.filter((s) => s.endsWith('/a_1/infer'))).toHaveLength(2);
    // One request, counted once for eviction, and no longer in flight.
    expect(manager.lru.get('a_1')).toMatchObject({ scoredAt: 1, inFlight: 0, inMemory: true });
  });

  it('sends again on a new connection when the server reset a reused keep-alive one', async () => {
    await load('a');
    up.opts.resetReusedConnections = true;
    for (let i = 0; i < 3; i++) expect((await infer('/v2/models/a/infer')).status).toBe(200);
    expect(up.seen.filter((s) => s.endsWith('/a_1/infer'))).toHaveLength(5);
  });

  it('answers 404 with a reason for a model this replica does not hold', async () => {
    const r = await infer('/v2/models/nope/infer');
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: 'model nope is not loaded on this replica' });
  });
});

describe('protobuf field 1 helpers', () => {
  it('reads the last field 1 and appends one that wins', () => {
    // field 1 = "iris", field 2 = "v", field 3 varint 5
    const msg = Buffer.from([0x0a, 4, ...Buffer.from('iris'), 0x12, 1, 0x76, 0x18, 5]);
    expect(readNameField(msg)).toBe('iris');
    const rewritten = overrideNameField(msg, 'iris_3');
    expect(readNameField(rewritten)).toBe('iris_3');
    expect(readNameField(Buffer.from([0x18, 0x96, 0x01]))).toBeUndefined();
    const long = 'x'.repeat(200);
    expect(readNameField(overrideNameField(Buffer.alloc(0), long))).toBe(long);
  });
});

describe('REST proxy robustness', () => {
  it('answers a malformed model path with 400 and keeps serving', async () => {
    const bad = await infer('/v2/models/%E0%A4%A/infer');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('bad request');
    await load('a');
    expect((await infer('/v2/models/a/infer')).status).toBe(200);
  });
});
