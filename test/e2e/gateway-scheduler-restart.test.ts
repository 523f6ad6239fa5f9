// A scheduler restart under load, with real processes (scheduler, agent, MLServer, gateway):
// the gateway keeps serving the routes it had while the new scheduler hears from its agents
// again, so no request sees a 404 or a 5xx.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type AgentProcess,
  freePort,
  logTail,
  type ManagedProcess,
  type MlserverInstance,
  pollUntil,
  startAgentProcess,
  startMlserver,
  trainIrisModel,
  waitUntilReady,
} from './harness/index.ts';
import { startRuntimeProcess } from './harness/runtime-process.ts';
import { describeE2E } from './harness/toolchain.ts';

const FLOWERS = [5.1, 3.5, 1.4, 0.2, 6.4, 3.2, 4.5, 1.5, 6.3, 3.3, 6.0, 2.5];
const IRIS = JSON.stringify({
  inputs: [{ name: 'predict', shape: [3, 4], datatype: 'FP64', data: FLOWERS }],
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeE2E('gateway across a scheduler restart', ['python3'], () => {
  let dir: string;
  let manifests: string;
  let schedulerPort: number;
  let healthPort: number;
  let scheduler: ManagedProcess;
  let mlserver: MlserverInstance;
  let agent: AgentProcess;
  let gateway: ManagedProcess;
  let url: string;
  const logs: string[] = [];

  const startScheduler = async () => {
    scheduler = startRuntimeProcess(
      'scheduler',
      {
        manifests,
        port: schedulerPort,
        'health-port': healthPort,
        listen: '127.0.0.1',
        'wait-for-servers-ms': 200,
      },
      { dir, logs },
    );
    await waitUntilReady(
      scheduler,
      'scheduler',
      async () => (await fetch(`http://127.0.0.1:${healthPort}/live`)).ok,
      30_000,
    );
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlops-e2e-restart-'));
    manifests = join(dir, 'manifests');
    mkdirSync(manifests);
    mkdirSync(join(dir, 'artifacts'));
    [schedulerPort, healthPort] = [await freePort(), await freePort()];
    [, mlserver] = await Promise.all([
      trainIrisModel(join(dir, 'artifacts'), 'iris'),
      startMlserver({ modelsDir: join(dir, 'models') }),
    ]);
    writeFileSync(
      join(manifests, 'app.yaml'),
      `apiVersion: mlops.seldon.io/v1alpha1
kind: Server
metadata: {name: mlserver, namespace: default}
spec: {serverConfig: mlserver, replicas: 1}
---
apiVersion: mlops.seldon.io/v1alpha1
kind: Model
metadata: {name: iris, namespace: default}
spec:
  storageUri: file://${join(dir, 'artifacts', 'iris')}
  requirements: [sklearn]
  memory: 20Mi
`,
    );
    await startScheduler();
    agent = await startAgentProcess({
      name: 'agent-0',
      dir,
      logs,
      scheduler: `127.0.0.1:${schedulerPort}`,
      mlserver,
      flags: { server: 'mlserver', replica: 0, memory: '100Mi' },
    });
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    gateway = startRuntimeProcess(
      'gateway',
      {
        scheduler: `127.0.0.1:${schedulerPort}`,
        listen: '127.0.0.1',
        'http-port': httpPort,
        'grpc-port': grpcPort,
      },
      { dir, logs },
    );
    url = `http://127.0.0.1:${httpPort}`;
    await waitUntilReady(gateway, 'gateway', async () => (await fetch(`${url}/v2/health/ready`)).ok, 30_000);
  }, 240_000);

  afterAll(async () => {
    await gateway?.stop(5000);
    await agent?.proc.stop(5000);
    await scheduler?.stop(5000);
    await mlserver?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const infer = async () => {
    const res = await fetch(`${url}/v2/models/iris/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: IRIS,
    });
    return { status: res.status, body: await res.text() };
  };

  it('a scheduler restart under load: zero 404 and zero 5xx', async () => {
    await pollUntil('iris served through the gateway', async () => (await infer()).status === 200, {
      timeoutMs: 60_000,
      logs,
    });
    const failures: string[] = [];
    let served = 0;
    let running = true;
    const load = (async () => {
      while (running) {
        const r = await infer().catch((err: Error) => ({ status: 0, body: err.message }));
        if (r.status === 200) served++;
        else failures.push(`${r.status} ${r.body.slice(0, 120)}`);
        await sleep(10);
      }
    })();
    await sleep(500);
    const before = served;
    await scheduler.stop(5000);
    // The agent is paused while the new scheduler starts, so it is not back before the scheduler
    // stops waiting for it (as when an agent's reconnect back-off outlasts that wait): the new
    // scheduler's first table lacks iris, whose replica still serves. Requests sent meanwhile
    // wait for the agent; none may fail.
    process.kill(agent.proc.pid, 'SIGSTOP');
    try {
      await startScheduler();
      await pollUntil(
        'the new scheduler publishing its first table',
        async () => (await fetch(`http://127.0.0.1:${healthPort}/ready`)).ok,
        { timeoutMs: 30_000, logs },
      );
      await sleep(500);
    } finally {
      process.kill(agent.proc.pid, 'SIGCONT');
    }
    // Until the agent has reported again and the new table names iris, then a little longer.
    await pollUntil(
      'iris routed by the new scheduler',
      async () => {
        const status = (await (await fetch(`http://127.0.0.1:${healthPort}/status`)).json()) as {
          models: { name: string; versions: { state: string }[] }[];
        };
        return status.models.find((m) => m.name === 'iris')?.versions.at(-1)?.state === 'ModelAvailable';
      },
      { timeoutMs: 30_000, logs },
    );
    await sleep(1000);
    running = false;
    await load;
    console.log(`served ${served} requests across the restart (${served - before} after it began)`);
    expect(failures, logs.map((l) => `${l}:\n${logTail(l, 10)}`).join('\n')).toEqual([]);
    expect(served - before).toBeGreaterThan(20);
  }, 90_000);
});
