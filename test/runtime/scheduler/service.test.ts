import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../../src/runtime/agent/agent.ts';
import { startSchedulerService } from '../../../src/runtime/scheduler/main.ts';
import { DirectorySource } from '../../../src/runtime/sources/directory.ts';

const log = pino({ level: 'silent' });

describe('startSchedulerService (local mode, in process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-scheduler-service-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('places a model from the manifests folder and serves /status, /ready and /metrics', async () => {
    mkdirSync(join(dir, 'manifests'));
    mkdirSync(join(dir, 'art'));
    writeFileSync(join(dir, 'art', 'model-settings.json'), '{}');
    writeFileSync(
      join(dir, 'manifests', 'app.yaml'),
      `apiVersion: mlops.seldon.io/v1alpha1
kind: Model
metadata: {name: iris}
spec: {storageUri: "file://${join(dir, 'art')}", memory: 1Mi}
`,
    );
    const service = await startSchedulerService({
      source: new DirectorySource(join(dir, 'manifests'), log, 100),
      log,
      port: 0,
      healthPort: 0,
      host: '127.0.0.1',
      waitForServersMs: 0,
    });
    const agent = new Agent({
      serverName: 'mlserver',
      replicaIdx: 0,
      schedulerAddress: `127.0.0.1:${service.port}`,
      inferenceUrl: 'http://127.0.0.1:1',
      modelsDir: join(dir, 'models'),
      cacheDir: join(dir, 'cache'),
      memoryBytes: 1024 ** 3,
      overCommitPercentage: 10,
      capabilities: [],
      advertiseHost: '127.0.0.1',
      httpPort: 0,
      adminPort: 0,
      log,
      modelServer: { load: async () => {}, unload: async () => {}, ready: async () => true },
    });
    await agent.start();
    try {
      const base = `http://127.0.0.1:${service.healthPort}`;
      const deadline = Date.now() + 10_000;
      let state = '';
      while (Date.now() < deadline && state !== 'ModelAvailable') {
        const status = (await (await fetch(`${base}/status`)).json()) as {
          models: { name: string; versions: { state: string }[] }[];
        };
        state = status.models.find((m) => m.name === 'iris')?.versions[0]?.state ?? '';
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(state).toBe('ModelAvailable');
      expect((await fetch(`${base}/ready`)).status).toBe(200);
      expect(await (await fetch(`${base}/metrics`)).text()).toContain(
        'mlops_scheduler_models{state="ModelAvailable"} 1',
      );
    } finally {
      await agent.stop();
      await service.stop();
    }
  });
});
