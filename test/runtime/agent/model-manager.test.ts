import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactCache } from '../../../src/runtime/agent/artifacts.ts';
import { AgentMetrics } from '../../../src/runtime/agent/metrics.ts';
import { ModelManager } from '../../../src/runtime/agent/model-manager.ts';
import type { ModelServer } from '../../../src/runtime/agent/repository-client.ts';
import type { ModelDefinition } from '../../../src/runtime/protocol/control.ts';

/** Records calls like an inference server's repository API would receive them. */
class FakeServer implements ModelServer {
  readonly calls: string[] = [];
  readonly loaded = new Set<string>();
  async load(name: string) {
    this.calls.push(`load ${name}`);
    this.loaded.add(name);
  }
  async unload(name: string) {
    this.calls.push(`unload ${name}`);
    this.loaded.delete(name);
  }
  async ready() {
    return true;
  }
}

let dir: string;
let uri: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlops-manager-'));
  mkdirSync(join(dir, 'art'));
  writeFileSync(join(dir, 'art', 'model-settings.json'), '{"name":"x"}');
  uri = pathToFileURL(join(dir, 'art')).href;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const def = (name: string, memoryBytes = 10): ModelDefinition => ({
  name,
  namespace: '',
  version: 1,
  storageUri: uri,
  artifactVersion: 0,
  requirements: [],
  memoryBytes,
  server: '',
  parameters: [],
  secretName: '',
});

function manager(server: FakeServer, memoryBytes = 20) {
  const metrics = new AgentMetrics();
  const m = new ModelManager({
    cache: new ArtifactCache(join(dir, 'cache'), join(dir, 'models')),
    server,
    metrics,
    log: pino({ level: 'silent' }),
    memoryBytes,
    minResidencyMs: 0,
  });
  return { m, metrics };
}

const value = async (metrics: AgentMetrics, name: string) =>
  (await metrics.registry.getSingleMetric(name)?.get())?.values.reduce((a, v) => a + v.value, 0) ?? 0;

describe('ModelManager', () => {
  it('over-commits: registers more than fits, evicts the least used, reloads on demand and counts both', async () => {
    const server = new FakeServer();
    const { m, metrics } = manager(server);
    await m.load(def('a'));
    await m.load(def('b'));
    await m.load(def('c'));
    expect(server.calls).toEqual(['load a_1', 'load b_1', 'unload a_1', 'load c_1']);
    expect(m.registered().map((d) => d.name)).toEqual(['a', 'b', 'c']);
    expect(await m.acquire('a_1')).toBe(true);
    m.release('a_1');
    expect(server.calls.slice(4)).toEqual(['unload b_1', 'load a_1']);
    expect(await value(metrics, 'mlops_agent_model_evictions_total')).toBe(2);
    expect(await value(metrics, 'mlops_agent_model_reloads_total')).toBe(1);
    expect(await value(metrics, 'mlops_agent_memory_in_use_bytes')).toBe(20);
    expect(await value(metrics, 'mlops_agent_memory_registered_bytes')).toBe(30);
  });

  it('keeps the model with more requests in memory when another needs room', async () => {
    const server = new FakeServer();
    const { m } = manager(server);
    await m.load(def('a'));
    await m.load(def('b'));
    for (const name of ['a_1', 'a_1', 'a_1', 'b_1']) {
      expect(await m.acquire(name)).toBe(true);
      m.release(name);
    }
    await m.load(def('c'));
    // `b` was used last but `a` has three requests: `b` goes.
    expect(server.calls.slice(2)).toEqual(['unload b_1', 'load c_1']);
    expect(await m.acquire('b_1')).toBe(true);
    m.release('b_1');
    // `c` was never requested: it goes before `a`.
    expect(server.calls.slice(4)).toEqual(['unload c_1', 'load b_1']);
  });

  it('unload removes the model from server, memory and disk', async () => {
    const server = new FakeServer();
    const { m } = manager(server);
    await m.load(def('a'));
    await m.unload(def('a'));
    expect(server.loaded.size).toBe(0);
    expect(m.registered()).toEqual([]);
    expect(await m.acquire('a_1')).toBe(false);
  });

  it('a failed server load leaves nothing registered and reports the server error', async () => {
    const server = new FakeServer();
    server.load = async () => {
      throw new Error('inference server refused load (HTTP 400): bad model');
    };
    const { m, metrics } = manager(server);
    await expect(m.load(def('a'))).rejects.toThrow('bad model');
    expect(m.registered()).toEqual([]);
    expect(await value(metrics, 'mlops_agent_model_loads_total')).toBe(1);
  });

  it('resolves the newest version of a model name', async () => {
    const { m } = manager(new FakeServer(), 100);
    await m.load(def('a'));
    await m.load({ ...def('a'), version: 2 });
    expect(m.latestOf('a')?.version).toBe(2);
  });
});
