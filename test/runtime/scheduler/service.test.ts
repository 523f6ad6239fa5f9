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
---
apiVersion: mlops.seldon.io/v1alpha1
kind: Pipeline
metadata: {name: flow}
spec: {steps: [{name: iris}]}
`,
    );
    const source = new DirectorySource(join(dir, 'manifests'), log, 100);
    const service = await startSchedulerService({
      source,
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
      // Local mode keeps the Pipeline's status in memory; /status summarises it.
      const summary = (await (await fetch(`${base}/status`)).json()) as { pipelines: unknown[] };
      expect(summary.pipelines).toEqual([{ name: 'flow', ready: true }]);
      expect(source.pipelineStatus.get('Pipeline//flow')?.conditions?.at(-1)).toMatchObject({
        type: 'Ready',
        status: 'True',
      });
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

describe('startSchedulerService (bounds in local mode)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-scheduler-bounds-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('brings a Server from the manifests within its bounds when first seen and when they change', async () => {
    const file = join(dir, 'server.yaml');
    const server = (bounds: string) =>
      `apiVersion: mlops.seldon.io/v1alpha1\nkind: Server\nmetadata: {name: mlserver}\nspec: {serverConfig: mlserver, ${bounds}}\n`;
    writeFileSync(file, server('minReplicas: 2, maxReplicas: 4'));
    const source = new DirectorySource(dir, log, 20);
    const service = await startSchedulerService({
      source,
      log,
      port: 0,
      healthPort: 0,
      host: '127.0.0.1',
      waitForServersMs: 0,
    });
    const desired = () => service.scheduler.servers.get('mlserver')?.desired?.replicas;
    const until = async (what: string, ok: () => boolean) => {
      const deadline = Date.now() + 5000;
      while (!ok()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    try {
      // The source's own copy carries the decision: the scheduler keeps seeing 2 after re-reads.
      await until('2 replicas', () => desired() === 2);
      writeFileSync(file, server('replicas: 9, minReplicas: 3, maxReplicas: 5'));
      await until('5 replicas', () => desired() === 5);
      writeFileSync(file, server('replicas: 4, minReplicas: 1, maxReplicas: 5'));
      await until('4 replicas', () => desired() === 4);
    } finally {
      await service.stop();
    }
  });
});
