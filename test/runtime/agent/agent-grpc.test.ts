import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../../src/runtime/agent/agent.ts';
import type { ModelServer } from '../../../src/runtime/agent/repository-client.ts';
import { subscribeRoutes } from '../../../src/runtime/protocol/route-client.ts';
import { RouteTable } from '../../../src/runtime/protocol/route-table.ts';
import { startControlServer } from '../../../src/runtime/scheduler/grpc-server.ts';
import { Scheduler } from '../../../src/runtime/scheduler/scheduler.ts';
import { model } from '../scheduler/fakes.ts';

// Scheduler and agent over real gRPC in one process; only the inference server is a fake.
const log = pino({ level: 'silent' });
const until = async (what: string, fn: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('agent ↔ scheduler over gRPC', () => {
  let dir: string;
  let scheduler: Scheduler;
  let control: Awaited<ReturnType<typeof startControlServer>>;
  const loaded = new Set<string>();
  let serverUp = true;
  const fake: ModelServer = {
    load: async (n) => void loaded.add(n),
    unload: async (n) => void loaded.delete(n),
    ready: async () => serverUp,
  };
  const agents: Agent[] = [];
  const startAgent = async (idx: number, modelServer = fake) => {
    const a = new Agent({
      serverName: 'mlserver',
      replicaIdx: idx,
      schedulerAddress: `127.0.0.1:${control.port}`,
      inferenceUrl: 'http://127.0.0.1:1',
      modelsDir: join(dir, `models-${idx}`),
      cacheDir: join(dir, `cache-${idx}`),
      memoryBytes: 1024 ** 3,
      overCommitPercentage: 10,
      capabilities: ['sklearn'],
      advertiseHost: `pod-${idx}`,
      httpPort: 0,
      adminPort: 0,
      unloadGraceMs: 0,
      log,
      modelServer,
    });
    await a.start();
    agents.push(a);
    return a;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlops-agent-grpc-'));
    mkdirSync(join(dir, 'art'));
    writeFileSync(join(dir, 'art', 'model-settings.json'), '{}');
    scheduler = new Scheduler({ log, waitForServersMs: 0 });
    control = await startControlServer({ scheduler, port: 0, host: '127.0.0.1', log });
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await control.stop();
    scheduler.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers, loads what is placed, publishes routes, and re-places when an agent leaves', async () => {
    const a0 = await startAgent(0);
    const a1 = await startAgent(1);
    const table = new RouteTable();
    const sub = subscribeRoutes(`127.0.0.1:${control.port}`, 'test', (u) => table.apply(u));
    scheduler.upsertModel(model('iris', { storageUri: pathToFileURL(join(dir, 'art')).href, memory: '1Mi' }));
    scheduler.markSynced();
    await until('iris routed', () => table.models.get('iris')?.versions[0]?.endpoints.length === 1);
    const ep = table.models.get('iris')?.versions[0].endpoints[0];
    const holder = ep?.replicaIdx === 0 ? a0 : a1;
    expect(ep).toMatchObject({ host: `pod-${ep?.replicaIdx}`, httpPort: holder.httpPort });
    expect(holder.manager.registered().map((d) => `${d.name}_${d.version}`)).toEqual(['iris_1']);
    expect(loaded.has('iris_1')).toBe(true);

    await holder.stop();
    const other = 1 - (ep?.replicaIdx ?? 0);
    await until(
      'iris moved',
      () => table.models.get('iris')?.versions[0]?.endpoints[0]?.replicaIdx === other,
    );
    sub.close();
  });

  it('reports an inference server that stops answering as down on its replica, not as a failed load, and routes there again once it is back', async () => {
    const table = new RouteTable();
    const sub = subscribeRoutes(`127.0.0.1:${control.port}`, 'test', (u) => table.apply(u));
    await until('iris routed', () => table.models.get('iris')?.versions[0]?.endpoints.length === 1);
    const ep = table.models.get('iris')?.versions[0].endpoints[0];
    const holder = agents.find((a) => a.httpPort === ep?.httpPort);
    // A pod with room and a healthy server, where a re-placement of iris would go.
    const spareLoads: string[] = [];
    await startAgent(2, { ...fake, load: async (n) => void spareLoads.push(n), ready: async () => true });
    const replica = () => scheduler.describe().models[0].versions[0].replicas[0];
    serverUp = false;
    loaded.clear(); // the server restarts empty
    // The proxy finds it unreachable (nothing listens upstream) and the agent looks at once.
    const res = await fetch(`http://127.0.0.1:${holder?.httpPort}/v2/models/iris/infer`, {
      method: 'POST',
      body: '{}',
    });
    expect(res.status).toBe(503);
    await until('replica reported down', () => replica()?.state === 'ServerDown');
    expect(replica()?.reason).toBe(
      `the inference server of mlserver-${ep?.replicaIdx} stopped answering (restarted?)`,
    );
    expect(scheduler.models.get('iris')?.latest?.state).toBe('ModelProgressing');
    await until('route withdrawn', () => !table.models.has('iris'));

    serverUp = true;
    await until('iris routed again', () => table.models.get('iris')?.versions[0]?.endpoints.length === 1);
    expect(loaded.has('iris_1')).toBe(true);
    // It registered anew before its old stream closed: iris never looked homeless, nothing moved.
    expect(spareLoads).toEqual([]);
    expect(scheduler.describe().models[0].versions[0].replicas).toHaveLength(1);
    expect(replica()?.state).toBe('Available');
    expect(scheduler.models.get('iris')?.latest?.state).toBe('ModelAvailable');
    sub.close();
  });
});
