import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ArtifactCache } from '../../src/runtime/agent/artifacts.ts';
import { AgentMetrics } from '../../src/runtime/agent/metrics.ts';
import { ModelManager } from '../../src/runtime/agent/model-manager.ts';
import { RepositoryClient } from '../../src/runtime/agent/repository-client.ts';
import type { ModelDefinition } from '../../src/runtime/protocol/control.ts';
import { type MlserverInstance, startMlserver, trainIrisModel } from './harness/index.ts';
import { describeE2E } from './harness/toolchain.ts';

const request = {
  inputs: [{ name: 'predict', shape: [1, 4], datatype: 'FP64', data: [5.1, 3.5, 1.4, 0.2] }],
};

describeE2E("over-commit eviction on real MLServer: the agent's policy", ['python3'], () => {
  let dir: string;
  let mlserver: MlserverInstance;
  let manager: ModelManager;
  let metrics: AgentMetrics;

  const def = (name: string): ModelDefinition => ({
    name,
    namespace: '',
    version: 1,
    storageUri: pathToFileURL(join(dir, 'artifacts', 'iris')).href,
    artifactVersion: 0,
    requirements: [],
    memoryBytes: 10,
    server: '',
    parameters: [],
    secretName: '',
  });

  /** One request as the agent's proxy serves it: bring the model in, infer on the server, release. */
  async function infer(model: string): Promise<number[]> {
    const name = `${model}_1`;
    expect(await manager.acquire(name)).toBe(true);
    try {
      const res = await fetch(`${mlserver.httpUrl}/v2/models/${name}/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { outputs: { data: number[] }[] };
      return body.outputs[0].data;
    } finally {
      manager.release(name);
    }
  }

  /** What the server itself reports as loaded. */
  async function loadedOnServer(): Promise<string[]> {
    const res = await fetch(`${mlserver.httpUrl}/v2/repository/index`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const models = (await res.json()) as { name: string; state: string }[];
    return models
      .filter((m) => m.state === 'READY')
      .map((m) => m.name)
      .sort();
  }

  const count = async (metric: string) =>
    (await metrics.registry.getSingleMetric(metric)?.get())?.values.reduce((a, v) => a + v.value, 0) ?? 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlops-e2e-overcommit-'));
    await trainIrisModel(join(dir, 'artifacts'), 'iris');
    mlserver = await startMlserver({ modelsDir: join(dir, 'models') });
    metrics = new AgentMetrics();
    manager = new ModelManager({
      cache: new ArtifactCache(join(dir, 'cache'), mlserver.modelsDir),
      server: new RepositoryClient(mlserver.httpUrl),
      metrics,
      log: pino({ level: 'silent' }),
      memoryBytes: 20, // room for two of the four models
      minResidencyMs: 0,
    });
    for (const m of ['hot', 'b', 'c', 'd']) await manager.load(def(m));
  }, 300_000);

  afterAll(async () => {
    await mlserver?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a popular model stays loaded through one-off requests to the others; they are reloaded from disk', async () => {
    // Loading four models into room for two left the last two in memory.
    expect(await loadedOnServer()).toEqual(['c_1', 'd_1']);
    for (let i = 0; i < 3; i++) expect(await infer('hot')).toEqual([0]);
    // Plain LRU would unload `hot` at the second of these (it was used before `b`).
    for (const m of ['b', 'c', 'd', 'b']) {
      expect(await infer(m)).toEqual([0]);
      expect(await loadedOnServer()).toContain('hot_1');
      expect((await loadedOnServer()).length).toBe(2);
    }
    const reloads = await count('mlops_agent_model_reloads_total');
    expect(await infer('hot')).toEqual([0]);
    expect(await count('mlops_agent_model_reloads_total')).toBe(reloads);
    expect(manager.lru.usedBytes).toBe(20);
    expect(manager.registered().map((d) => d.name)).toEqual(['b', 'c', 'd', 'hot']);
  }, 120_000);
});
