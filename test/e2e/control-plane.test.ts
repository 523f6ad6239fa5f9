// The control plane against real MLServer: scheduler and agents as separate processes (as in a
// cluster), desired state from a folder of YAML (local mode).
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RouteUpdate } from '../../src/runtime/protocol/control.ts';
import { subscribeRoutes } from '../../src/runtime/protocol/route-client.ts';
import { RouteTable } from '../../src/runtime/protocol/route-table.ts';
import {
  type AgentProcess,
  freePort,
  logTail,
  type ManagedProcess,
  type MlserverInstance,
  repoRoot,
  startAgentProcess,
  startMlserver,
  trainIrisModel,
  waitUntilReady,
} from './harness/index.ts';
import { startRuntimeProcess } from './harness/runtime-process.ts';
import { describeE2E } from './harness/toolchain.ts';

// One flower of each species: setosa, versicolor, virginica.
const FLOWERS = [5.1, 3.5, 1.4, 0.2, 6.4, 3.2, 4.5, 1.5, 6.3, 3.3, 6.0, 2.5];
const MODELS = ['m1', 'm2', 'm3', 'm4', 'm5'];

interface Status {
  servers: { name: string; replicas: { idx: number; models: string[] }[] }[];
  models: {
    name: string;
    versions: {
      version: number;
      state: string;
      reason?: string;
      replicas: { server: string; idx: number; state: string }[];
    }[];
  }[];
}

type AgentProc = AgentProcess;

interface InferResponse {
  model_name: string;
  outputs: { name: string; contents: { int64_contents: number[] } }[];
}
type Unary = (req: unknown, cb: (err: grpc.ServiceError | null, res: InferResponse) => void) => void;
type InferenceClient = grpc.Client & { ModelInfer: Unary };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeE2E('control plane: scheduler + agents + MLServer', ['python3'], () => {
  let dir: string;
  let manifests: string;
  let schedulerPort: number;
  let healthPort: number;
  let scheduler: ManagedProcess;
  const agents: AgentProc[] = [];
  const logs: string[] = [];

  const startScheduler = async () => {
    scheduler = startRuntimeProcess(
      'scheduler',
      {
        manifests,
        port: schedulerPort,
        'health-port': healthPort,
        // Agents reconnect within their 2 s back-off; wait for both before placing anything.
        'wait-for-servers-ms': 10_000,
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

  const startAgent = async (idx: number, mlserver: MlserverInstance): Promise<AgentProc> => {
    return startAgentProcess({
      name: `agent-${idx}`,
      dir,
      logs,
      scheduler: `127.0.0.1:${schedulerPort}`,
      mlserver,
      flags: {
        server: 'mlserver',
        replica: idx,
        // Room for 2 models of 20Mi in memory; registered models may take 3.5 × that.
        memory: '40Mi',
        'over-commit': 250,
        'min-residency-ms': 0,
        'unload-grace-ms': 0,
        'scaling-period-ms': 0,
      },
    });
  };

  const status = async (): Promise<Status> =>
    (await fetch(`http://127.0.0.1:${healthPort}/status`)).json() as Promise<Status>;
  const modelStatus = async (name: string) => (await status()).models.find((m) => m.name === name);
  const waitFor = async <T>(
    what: string,
    fn: () => Promise<T | undefined | false>,
    timeoutMs = 60_000,
  ): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const v = await fn();
        if (v) return v;
      } catch {
        // not yet
      }
      if (Date.now() > deadline) {
        throw new Error(
          `${what} within ${timeoutMs} ms; status: ${JSON.stringify(await status().catch(() => null))}\n${logs.map((l) => `${l}:\n${logTail(l, 15)}`).join('\n')}`,
        );
      }
      await sleep(100);
    }
  };
  const availableOn = async (name: string) => {
    const m = await modelStatus(name);
    const v = m?.versions.at(-1);
    if (v?.state !== 'ModelAvailable') return undefined;
    return v.replicas.filter((r) => r.state === 'Available').map((r) => r.idx);
  };
  const infer = async (agent: AgentProc, model: string) => {
    const res = await fetch(`http://127.0.0.1:${agent.httpPort}/v2/models/${model}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'predict', shape: [3, 4], datatype: 'FP64', data: FLOWERS }] }),
    });
    const body = (await res.json()) as {
      model_name?: string;
      outputs?: { data: number[] }[];
      error?: string;
    };
    return { status: res.status, body };
  };
  const metric = async (agent: AgentProc, name: string) => {
    const text = await (await fetch(`http://127.0.0.1:${agent.adminPort}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };
  let irisUri = '';
  let extraManifests = '';
  const writeManifests = (extra = extraManifests) => {
    extraManifests = extra;
    const model = (name: string, uri: string) => `---
apiVersion: mlops.seldon.io/v1alpha1
kind: Model
metadata:
  name: ${name}
  namespace: default
spec:
  storageUri: ${uri}
  requirements: [sklearn]
  memory: 20Mi
`;
    writeFileSync(
      join(manifests, 'app.yaml'),
      `apiVersion: mlops.seldon.io/v1alpha1
kind: Server
metadata:
  name: mlserver
  namespace: default
  annotations:
    mlops.cdk8s.io/placement-policy: best-fit
spec:
  serverConfig: mlserver
  replicas: 2
${model('iris', irisUri)}${MODELS.map((m) => model(m, `file://${join(dir, 'artifacts', 'iris')}`)).join('')}${extra}`,
    );
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlops-e2e-control-'));
    manifests = join(dir, 'manifests');
    mkdirSync(manifests);
    mkdirSync(join(dir, 'artifacts'));
    [schedulerPort, healthPort] = [await freePort(), await freePort()];
    const [, a, b] = await Promise.all([
      trainIrisModel(join(dir, 'artifacts'), 'iris'),
      startMlserver({ modelsDir: join(dir, 'models-0') }),
      startMlserver({ modelsDir: join(dir, 'models-1') }),
    ]);
    irisUri = `file://${join(dir, 'artifacts', 'iris')}`;
    writeManifests();
    await startScheduler();
    agents.push(await startAgent(0, a), await startAgent(1, b));
  }, 240_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.proc.stop(5000)));
    await scheduler?.stop(5000);
    await Promise.all(agents.map((a) => a.mlserver.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('places, loads and serves a model declared in YAML', async () => {
    const [idx] = await waitFor('iris available', () => availableOn('iris'));
    const r = await infer(agents[idx], 'iris');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.model_name).toBe('iris_1');
    expect(r.body.outputs?.[0].data).toEqual([0, 1, 2]);
  }, 90_000);

  it('serves gRPC through the agent (model name rewritten to the internal one)', async () => {
    const [idx] = await waitFor('iris available', () => availableOn('iris'));
    const def = protoLoader.loadSync(join(repoRoot, 'proto/inference.proto'), {
      keepCase: true,
      longs: Number,
      defaults: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      inference: { GRPCInferenceService: new (a: string, c: grpc.ChannelCredentials) => InferenceClient };
    };
    const client = new pkg.inference.GRPCInferenceService(
      `127.0.0.1:${agents[idx].grpcPort}`,
      grpc.credentials.createInsecure(),
    );
    try {
      const call = (model: string) =>
        new Promise<InferResponse>((resolve, reject) =>
          client.ModelInfer(
            {
              model_name: model,
              inputs: [
                { name: 'predict', datatype: 'FP64', shape: [3, 4], contents: { fp64_contents: FLOWERS } },
              ],
            },
            (err, res) => (err ? reject(err) : resolve(res)),
          ),
        );
      const res = await call('iris');
      expect(res.model_name).toBe('iris_1');
      expect(res.outputs[0].contents.int64_contents).toEqual([0, 1, 2]);
      await expect(call('nosuchmodel')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    } finally {
      client.close();
    }
  }, 60_000);

  it('publishes the route table to gateways as a stream', async () => {
    const [idx] = await waitFor('iris available', () => availableOn('iris'));
    const table = new RouteTable();
    const updates: RouteUpdate[] = [];
    const sub = subscribeRoutes(`127.0.0.1:${schedulerPort}`, 'e2e', (u) => {
      updates.push(u);
      table.apply(u);
    });
    try {
      await waitFor('snapshot', async () => table.models.has('iris'));
      expect(updates[0].full).toBe(true);
      expect(table.models.get('iris')?.versions[0]).toMatchObject({
        version: 1,
        internalName: 'iris_1',
        endpoints: [
          {
            serverName: 'mlserver',
            replicaIdx: idx,
            host: '127.0.0.1',
            httpPort: agents[idx].httpPort,
            grpcPort: agents[idx].grpcPort,
          },
        ],
      });
    } finally {
      sub.close();
    }
  }, 30_000);

  it('serves 5 registered models with memory for 2: all answer, evictions are counted', async () => {
    for (const m of MODELS) await waitFor(`${m} available`, () => availableOn(m));
    // Best fit packs everything on one pod: 6 × 20Mi registered, 40Mi in memory.
    const placements = await Promise.all(MODELS.map((m) => availableOn(m)));
    const idx = (placements[0] as number[])[0];
    expect(placements.every((p) => p?.[0] === idx)).toBe(true);
    const agent = agents[idx];
    const before = await metric(agent, 'mlops_agent_model_evictions_total');
    for (let round = 0; round < 2; round++) {
      for (const m of MODELS) {
        const r = await infer(agent, m);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect(r.body.outputs?.[0].data).toEqual([0, 1, 2]);
      }
    }
    const evictions = (await metric(agent, 'mlops_agent_model_evictions_total')) - before;
    expect(evictions).toBeGreaterThanOrEqual(MODELS.length * 2 - 2);
    expect(await metric(agent, 'mlops_agent_model_reloads_total')).toBeGreaterThan(0);
    const inMemory = await metric(agent, 'mlops_agent_memory_in_use_bytes');
    expect(inMemory).toBeLessThanOrEqual(40 * 1024 * 1024);
  }, 120_000);

  it('a bad artifact leaves the model failed with the reason in its status', async () => {
    writeManifests(`---
apiVersion: mlops.seldon.io/v1alpha1
kind: Model
metadata:
  name: broken
  namespace: default
spec:
  storageUri: file://${join(dir, 'artifacts', 'missing')}
  requirements: [sklearn]
  memory: 1Mi
`);
    const m = await waitFor('broken failed', async () => {
      const s = await modelStatus('broken');
      return s?.versions.at(-1)?.state === 'ModelFailed' ? s : undefined;
    });
    expect(m.versions.at(-1)?.reason).toContain(
      `cannot fetch file://${join(dir, 'artifacts', 'missing')}: no such file or folder`,
    );
  }, 60_000);

  it('a spec change rolls out version 2 while version 1 serves, then unloads version 1', async () => {
    cpSync(join(dir, 'artifacts', 'iris'), join(dir, 'artifacts', 'iris-v2'), { recursive: true });
    // What a gateway does: send each request to a version with an available replica.
    const served: number[] = [];
    const failed: string[] = [];
    let running = true;
    const traffic = (async () => {
      while (running) {
        const m = await modelStatus('iris');
        for (const v of [...(m?.versions ?? [])].reverse()) {
          const r = v.replicas.find((x) => x.state === 'Available');
          if (!r) continue;
          const res = await fetch(`http://127.0.0.1:${agents[r.idx].httpPort}/v2/models/iris/infer`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'seldon-internal-model': `iris_${v.version}` },
            body: JSON.stringify({
              inputs: [{ name: 'predict', shape: [3, 4], datatype: 'FP64', data: FLOWERS }],
            }),
          });
          if (res.status === 200) served.push(v.version);
          else failed.push(`${v.version}: ${res.status} ${await res.text()}`);
          break;
        }
        await sleep(20);
      }
    })();
    await sleep(300);
    irisUri = `file://${join(dir, 'artifacts', 'iris-v2')}`;
    writeManifests();
    await waitFor('only version 2 left', async () => {
      const m = await modelStatus('iris');
      return (
        m?.versions.length === 1 && m.versions[0].version === 2 && m.versions[0].state === 'ModelAvailable'
      );
    });
    running = false;
    await traffic;
    expect(failed).toEqual([]);
    expect(served).toContain(1);
    expect(served.at(-1)).toBe(2);
    const [idx] = (await availableOn('iris')) as number[];
    expect((await infer(agents[idx], 'iris')).body.model_name).toBe('iris_2');
  }, 60_000);

  it('a scheduler restart unloads nothing', async () => {
    const counts = async () =>
      Promise.all(
        agents.map(async (a) => [
          await metric(a, 'mlops_agent_model_unloads_total'),
          await metric(a, 'mlops_agent_model_loads_total'),
        ]),
      );
    const before = await counts();
    await scheduler.stop(5000);
    await startScheduler();
    for (const m of ['iris', ...MODELS]) await waitFor(`${m} available again`, () => availableOn(m), 30_000);
    await sleep(1500);
    expect(await counts()).toEqual(before);
    const [idx] = (await availableOn('iris')) as number[];
    expect((await infer(agents[idx], 'iris')).status).toBe(200);
  }, 90_000);

  it('kill an agent: its models are available on another replica within 10 s', async () => {
    const [idx] = await waitFor('iris available', () => availableOn('iris'));
    const other = 1 - idx;
    const killedAt = Date.now();
    process.kill(-agents[idx].proc.pid, 'SIGKILL');
    await agents[idx].proc.exited;
    await waitFor(
      'iris on the other replica',
      async () => (await availableOn('iris'))?.includes(other),
      10_000,
    );
    const elapsed = Date.now() - killedAt;
    expect(elapsed).toBeLessThan(10_000);
    const r = await infer(agents[other], 'iris');
    expect(r.status).toBe(200);
    expect(r.body.outputs?.[0].data).toEqual([0, 1, 2]);
    // The killed replica comes back (same inference server) for the next test.
    agents[idx] = await startAgent(idx, agents[idx].mlserver);
  }, 60_000);

  it('drain: /terminate returns once the models serve on another replica', async () => {
    const [idx] = await waitFor('iris available', () => availableOn('iris'));
    const other = 1 - idx;
    await waitFor('replacement connected', async () => (await status()).servers[0]?.replicas.length === 2);
    // POST from loopback, as the pod's preStop hook does.
    const res = await fetch(`http://127.0.0.1:${agents[idx].adminPort}/terminate`, { method: 'POST' });
    expect(await res.json()).toEqual({ drained: true });
    // By the time the drain returns, iris is available on the other replica.
    expect(await availableOn('iris')).toContain(other);
    expect((await infer(agents[other], 'iris')).body.outputs?.[0].data).toEqual([0, 1, 2]);
    expect((await fetch(`http://127.0.0.1:${agents[idx].adminPort}/ready`)).status).toBe(503);
  }, 60_000);
});
