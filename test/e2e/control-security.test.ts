// The control-plane hijack, replayed against a real kube-apiserver (tokens checked with
// TokenReview), real MLServers and the runtime's processes: a rogue agent registering as an
// extra replica, unauthenticated drains, the repository API through the proxies — each step is
// refused. Also: how quickly agents find a restarted scheduler, and an MLServer restarted behind
// a live agent (its replica leaves the routes; the Models report it and stay available as far as
// their minReplicas allow; traffic fails over). Times are printed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { AgentSubscribeRequest } from '../../src/runtime/protocol/control.ts';
import { controlPackage } from '../../src/runtime/protocol/control-proto.ts';
import { subscribeRoutes } from '../../src/runtime/protocol/route-client.ts';
import { RouteTable } from '../../src/runtime/protocol/route-table.ts';
import { credentialOptions } from '../../src/runtime/service/identity.ts';
import { customResourceDefinitions } from '../../src/spec/crd-schemas.ts';
import type { ModelResource } from '../../src/spec/types.ts';
import { grpcClient } from '../runtime/gateway/grpc-fixtures.ts';
import {
  type AgentProcess,
  type ApplyObject,
  applyCrds,
  freePort,
  type KubeApiserver,
  type ManagedProcess,
  type MlserverInstance,
  podToken,
  pollUntil,
  serverSideApply,
  startAgentProcess,
  startKubeApiserver,
  startMlserver,
  trainIrisModel,
  waitUntilReady,
} from './harness/index.ts';
import { startRuntimeProcess } from './harness/runtime-process.ts';
import { describeE2E } from './harness/toolchain.ts';

const NS = 'secure';
const SECRET = 'agent-1-drain-secret';
const INFER = JSON.stringify({
  inputs: [{ name: 'predict', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2] }],
});
const GRPC_INFER = {
  model_name: 'iris',
  inputs: [
    { name: 'predict', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [5.1, 3.5, 1.4, 0.2] } },
  ],
};

describeE2E('control plane security on a real kube-apiserver and MLServer', ['go', 'python3'], () => {
  let dir: string;
  let failed = false;
  let kube: KubeApiserver;
  let kc: KubeConfig;
  let custom: CustomObjectsApi;
  let scheduler: ManagedProcess;
  let gateway: ManagedProcess;
  const ports = { scheduler: 0, health: 0, gateway: 0, gatewayGrpc: 0 };
  const agents: AgentProcess[] = [];
  const mlservers: MlserverInstance[] = [];
  const logs: string[] = [];
  const tokens: Record<string, string> = {};

  const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000) =>
    pollUntil(what, fn, { timeoutMs, intervalMs: 10, logs, logLines: 12 });
  const token = (pod: string) => readFileSync(tokens[pod], 'utf8');
  const model = async (name = 'iris') =>
    (await custom.getNamespacedCustomObject({
      group: 'mlops.seldon.io',
      version: 'v1alpha1',
      namespace: NS,
      plural: 'models',
      name,
    })) as ModelResource;
  const modelReady = (m: ModelResource) => m.status?.conditions?.find((c) => c.type === 'ModelReady');
  const infer = async () =>
    (
      await fetch(`http://127.0.0.1:${ports.gateway}/v2/models/iris/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: INFER,
      })
    ).status;
  const agentReady = async (a: AgentProcess) =>
    (await fetch(`http://127.0.0.1:${a.adminPort}/ready`).catch(() => undefined))?.ok === true;

  const startScheduler = async () => {
    scheduler = startRuntimeProcess(
      'scheduler',
      {
        kubernetes: true,
        namespace: NS,
        listen: '127.0.0.1',
        port: ports.scheduler,
        'health-port': ports.health,
        'wait-for-servers-ms': 3000,
      },
      { dir, logs, env: { KUBECONFIG: kube.kubeconfigPath } },
    );
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlops-e2e-security-'));
    const [k, , a, b] = await Promise.all([
      startKubeApiserver(),
      trainIrisModel(join(dir, 'artifacts'), 'iris'),
      startMlserver({ modelsDir: join(dir, 'models-0') }),
      startMlserver({ modelsDir: join(dir, 'models-1') }),
    ]);
    kube = k;
    mlservers.push(a, b);
    kc = new KubeConfig();
    kc.loadFromFile(kube.kubeconfigPath);
    custom = kc.makeApiClient(CustomObjectsApi);
    await applyCrds(kube, customResourceDefinitions() as unknown as ApplyObject[]);
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
    await serverSideApply(kube, {
      apiVersion: 'mlops.seldon.io/v1alpha1',
      kind: 'Server',
      metadata: { name: 'mlserver', namespace: NS },
      spec: { serverConfig: 'mlserver', replicas: 2 },
    });
    // iris needs both replicas; iris-tolerant makes do with one (minReplicas).
    for (const [name, minReplicas] of [
      ['iris', undefined],
      ['iris-tolerant', 1],
    ] as const) {
      await serverSideApply(kube, {
        apiVersion: 'mlops.seldon.io/v1alpha1',
        kind: 'Model',
        metadata: { name, namespace: NS },
        spec: {
          storageUri: `file://${join(dir, 'artifacts', 'iris')}`,
          requirements: ['sklearn'],
          memory: '20Mi',
          replicas: 2,
          ...(minReplicas ? { minReplicas } : {}),
        },
      });
    }
    // The real replicas, the gateway, a rogue pod, and a pod named like a replica the Server lacks.
    for (const pod of ['mlserver-0', 'mlserver-1', 'mlops-gateway-0', 'rogue', 'mlserver-9'])
      tokens[pod] = await podToken(kc, NS, pod, dir);
    tokens.apiAudience = await podToken(kc, NS, 'rogue', dir, {
      audience: 'https://kubernetes.default.svc.cluster.local',
    });

    [ports.scheduler, ports.health, ports.gateway, ports.gatewayGrpc] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    await startScheduler();
    const address = `127.0.0.1:${ports.scheduler}`;
    for (const [idx, mlserver] of mlservers.entries()) {
      agents.push(
        await startAgentProcess({
          name: `agent-${idx}`,
          dir,
          logs,
          scheduler: address,
          mlserver,
          flags: { memory: '100Mi', 'unload-grace-ms': 0, 'scheduler-token-file': tokens[`mlserver-${idx}`] },
          // Replica 1 also has a control secret (as under `mlops dev`): its drain then needs it.
          env: {
            POD_NAME: `mlserver-${idx}`,
            POD_NAMESPACE: NS,
            ...(idx === 1 ? { MLOPS_CONTROL_SECRET: SECRET } : {}),
          },
        }),
      );
    }
    gateway = startRuntimeProcess(
      'gateway',
      {
        scheduler: address,
        listen: '127.0.0.1',
        'http-port': ports.gateway,
        'grpc-port': ports.gatewayGrpc,
        'scheduler-token-file': tokens['mlops-gateway-0'],
      },
      { dir, logs },
    );
    await waitUntilReady(gateway, 'gateway', async () => (await infer()) === 200, 60_000);
    await waitFor('both models on both replicas', async () =>
      (await Promise.all([model('iris'), model('iris-tolerant')])).every(
        (m) => m.status?.availableReplicas === 2,
      ),
    );
  }, 300_000);

  afterAll(async () => {
    await gateway?.stop(5000);
    await Promise.all(agents.map((x) => x.proc.stop(5000)));
    await scheduler?.stop(5000);
    await Promise.all(mlservers.map((m) => m.stop()));
    await kube?.stop();
    // The processes' logs stay for a failed run.
    if (dir && !failed) rmSync(dir, { recursive: true, force: true });
    else if (dir) console.log(`logs kept in ${dir}`);
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') failed = true;
  });

  /** Subscribes as replica `idx` of `mlserver`; resolves to the status code, or 'registered'. */
  const register = (idx: number, credential?: string) =>
    new Promise<string>((resolve) => {
      const client = new (controlPackage().AgentService)(
        `127.0.0.1:${ports.scheduler}`,
        grpc.credentials.createInsecure(),
        credentialOptions(credential ? () => credential : undefined),
      );
      const req: AgentSubscribeRequest = {
        serverName: 'mlserver',
        replicaIdx: idx,
        namespace: NS,
        replicaConfig: {
          inferenceHost: '127.0.0.1',
          inferenceHttpPort: 1,
          inferenceGrpcPort: 1,
          memoryBytes: 1e9,
          capabilities: ['mlserver', 'sklearn'],
          overCommitPercentage: 0,
        },
        loadedModels: [],
        availableMemoryBytes: 1e9,
      };
      const stream = (client.Subscribe as (r: AgentSubscribeRequest) => grpc.ClientReadableStream<unknown>)(
        req,
      );
      const done = (outcome: string) => {
        stream.cancel();
        client.close();
        resolve(outcome);
      };
      stream.on('metadata', () => done('registered'));
      stream.on('error', (err: grpc.ServiceError) => done(`${grpc.status[err.code]}: ${err.details}`));
    });

  const unary = (
    service: 'AgentService' | 'RouteService',
    method: string,
    body: object,
    credential?: string,
  ) =>
    new Promise<string>((resolve) => {
      const client = new (controlPackage()[service])(
        `127.0.0.1:${ports.scheduler}`,
        grpc.credentials.createInsecure(),
        credentialOptions(credential ? () => credential : undefined),
      );
      const fn = client[method as keyof typeof client] as unknown as (
        ...args: unknown[]
      ) => grpc.ClientReadableStream<unknown>;
      const call = fn.call(client, body, (err: grpc.ServiceError | null) => {
        client.close();
        resolve(err ? grpc.status[err.code] : 'OK');
      });
      // A server stream (routes) reports its refusal as an error event.
      if (method === 'SubscribeRoutes') {
        call.on('data', () => resolve('OK'));
        call.on('error', (err: grpc.ServiceError) => {
          client.close();
          resolve(grpc.status[err.code]);
        });
      }
    });

  it('a rogue agent cannot register: no credential, a token for the API, another pod’s token, a replica that does not exist', async () => {
    expect(await register(9)).toMatch(/^UNAUTHENTICATED: no credential/);
    expect(await register(9, token('apiAudience'))).toMatch(/^UNAUTHENTICATED: token refused/);
    expect(await register(9, token('rogue'))).toBe(
      'PERMISSION_DENIED: pod secure/rogue may act only as its own replica, not as mlserver-9',
    );
    // A stolen token of a real replica is no good for another replica either.
    expect(await register(9, token('mlserver-1'))).toMatch(/^PERMISSION_DENIED: pod secure\/mlserver-1 /);
    expect(await register(0, token('rogue'))).toMatch(/^PERMISSION_DENIED: pod secure\/rogue /);
    // A pod named like replica 9 exists, but the Server has two replicas.
    expect(await register(9, token('mlserver-9'))).toBe(
      'NOT_FOUND: registration refused: Server "mlserver" has replicas 0..1, not 9',
    );
    // Nor can it drain a real replica through the scheduler, or read the routes.
    expect(await unary('AgentService', 'AgentDrain', { serverName: 'mlserver', replicaIdx: 0 })).toBe(
      'UNAUTHENTICATED',
    );
    expect(
      await unary('AgentService', 'AgentDrain', { serverName: 'mlserver', replicaIdx: 0 }, token('rogue')),
    ).toBe('PERMISSION_DENIED');
    expect(await unary('RouteService', 'SubscribeRoutes', { subscriberName: 'rogue' })).toBe(
      'UNAUTHENTICATED',
    );
    const status = (await (await fetch(`http://127.0.0.1:${ports.health}/status`)).json()) as {
      servers: { name: string; replicas: { idx: number; draining: boolean }[] }[];
    };
    const server = status.servers.find((s) => s.name === 'mlserver');
    expect(server?.replicas.map((r) => [r.idx, r.draining])).toEqual([
      [0, false],
      [1, false],
    ]);
    expect(readFileSync(logs[0], 'utf8')).toMatch(
      /"reason":"registration refused: Server \\"mlserver\\" has replicas 0\.\.1, not 9".*"msg":"control call refused"/,
    );
  }, 60_000);

  it('drains start only by POST from inside the pod: other methods are 405, outsiders 403', async () => {
    const terminate = async (agent: AgentProcess, method: string, headers: Record<string, string> = {}) =>
      (await fetch(`http://127.0.0.1:${agent.adminPort}/terminate`, { method, headers })).status;
    for (const method of ['GET', 'OPTIONS', 'PUT', 'DELETE'])
      expect(await terminate(agents[0], method)).toBe(405);
    expect(await terminate(agents[1], 'OPTIONS')).toBe(405);
    expect(await terminate(agents[1], 'POST')).toBe(403);
    expect(await terminate(agents[1], 'POST', { authorization: `Bearer ${token('mlserver-1')}` })).toBe(403);
    // Nothing drained: both replicas still serve.
    expect(await Promise.all(agents.map(agentReady))).toEqual([true, true]);
    expect((await model()).status?.availableReplicas).toBe(2);
  }, 30_000);

  it('the agent proxies refuse the repository API (REST 403, gRPC PERMISSION_DENIED)', async () => {
    const rest = (agent: AgentProcess, path: string) =>
      new Promise<number>((resolve, reject) => {
        // A raw request, so the path is sent exactly as written (dot segments included).
        const req = http.request({ host: '127.0.0.1', port: agent.httpPort, path, method: 'POST' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end('{}');
      });
    for (const path of [
      '/v2/repository/index',
      '/v2/repository/models/iris_1/unload',
      '/v2/repository/models/iris_1/load',
      '//v2/%72epository/index',
      '/v2/models/iris/../../repository/models/iris_1/unload',
    ])
      expect([path, await rest(agents[0], path)]).toEqual([path, 403]);
    const grpcCall = (path: string) =>
      new Promise<string>((resolve) => {
        const client = new grpc.Client(`127.0.0.1:${agents[0].grpcPort}`, grpc.credentials.createInsecure());
        client.makeUnaryRequest(
          path,
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.alloc(0),
          (err) => {
            client.close();
            resolve(err ? grpc.status[err.code] : 'OK');
          },
        );
      });
    expect(await grpcCall('/inference.GRPCInferenceService/RepositoryIndex')).toBe('PERMISSION_DENIED');
    expect(await grpcCall('/inference.GRPCInferenceService/RepositoryModelUnload')).toBe('PERMISSION_DENIED');
    expect(await grpcCall('/inference.model_repository.ModelRepositoryService/RepositoryModelUnload')).toBe(
      'PERMISSION_DENIED',
    );
    // The model is still loaded and serves.
    expect(await infer()).toBe(200);
  }, 30_000);

  it('agents find a restarted scheduler quickly (times printed)', async () => {
    await scheduler.stop(5000);
    await waitFor(
      'agents notice',
      async () => !(await agentReady(agents[0])) && !(await agentReady(agents[1])),
    );
    const started = Date.now();
    await startScheduler();
    const accepting = await waitFor(
      'the new scheduler listens',
      async () => {
        const open = await new Promise<boolean>((resolve) => {
          const s = net.connect(ports.scheduler, '127.0.0.1');
          s.once('connect', () => resolve(s.destroy() === s));
          s.once('error', () => resolve(false));
        });
        return open && Date.now();
      },
      30_000,
    );
    const back = await Promise.all(
      agents.map((a, i) =>
        waitFor(`agent-${i} registered again`, async () => (await agentReady(a)) && Date.now(), 30_000),
      ),
    );
    const after = back.map((t) => t - accepting);
    console.log(
      `scheduler restart: listening ${accepting - started} ms after start; agents registered again ${after.join(' ms, ')} ms after it listened`,
    );
    expect(await waitFor('routes back', async () => (await infer()) === 200, 30_000)).toBe(true);
  }, 60_000);

  it('an MLServer restart behind a live agent: its replica leaves the routes, Models report it (also after a scheduler restart) and stay available down to minReplicas, and serve fully once it is back', async () => {
    const table = new RouteTable();
    const routes = subscribeRoutes(
      `127.0.0.1:${ports.scheduler}`,
      'e2e-observer',
      (u) => table.apply(u),
      () => {},
      credentialOptions(() => token('mlops-gateway-0')),
    );
    const routed = (name: string) =>
      table.models
        .get(name)
        ?.versions.flatMap((v) => v.endpoints.map((e) => e.replicaIdx))
        .sort()
        .join(',');
    const bothRouted = (want: string) => routed('iris') === want && routed('iris-tolerant') === want;
    await waitFor('both models routed to both replicas', async () => bothRouted('0,1'));
    /** Sends requests one after another until the returned function stops it and gives the codes. */
    const reasons: string[] = [];
    const traffic = () => {
      let running = true;
      const codes: number[] = [];
      const done = (async () => {
        while (running) {
          const res = await fetch(`http://127.0.0.1:${ports.gateway}/v2/models/iris/infer`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: INFER,
          }).catch(() => undefined);
          codes.push(res?.status ?? 0);
          if (res?.status !== 200) reasons.push(`${res?.status} ${await res?.text()}`);
        }
      })();
      return async () => {
        running = false;
        await done;
        return codes;
      };
    };
    let stopTraffic = traffic();
    const killed = Date.now();
    process.kill(mlservers[1].pid, 'SIGKILL');
    const why = '1 of 2 replicas serve: the inference server of mlserver-1 stopped answering (restarted?)';
    const reported = await waitFor('status says which replica is down', async () => {
      const [m, t] = await Promise.all([model('iris'), model('iris-tolerant')]);
      return modelReady(m)?.message === why && modelReady(t)?.message === why && Date.now();
    });
    const [strict, tolerant] = await Promise.all([model('iris'), model('iris-tolerant')]);
    // With minReplicas 1 one serving replica is enough; without, the model needs both.
    expect(tolerant.status).toMatchObject({ replicas: 2, availableReplicas: 1 });
    expect(modelReady(tolerant)).toMatchObject({ status: 'True', reason: 'ModelAvailable' });
    expect(tolerant.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      message: why,
    });
    expect(strict.status).toMatchObject({ replicas: 2, availableReplicas: 1 });
    expect(modelReady(strict)).toMatchObject({ status: 'False', reason: 'ModelProgressing' });
    await waitFor('routes without replica 1', async () => bothRouted('0'), 5000);
    const codes = await stopTraffic();

    // A scheduler restarted meanwhile learns it from the agent's registration.
    await scheduler.stop(5000);
    await startScheduler();
    await waitFor(
      'the new scheduler reports replica 1 down',
      async () => {
        const [m, t] = await Promise.all([model('iris'), model('iris-tolerant')]);
        const down = '1 of 2 replicas serve: the inference server of mlserver-1 is down';
        return (
          modelReady(m)?.message === down &&
          modelReady(m)?.status === 'False' &&
          modelReady(t)?.message === down &&
          modelReady(t)?.status === 'True' &&
          t.status?.availableReplicas === 1
        );
      },
      30_000,
    );
    await waitFor('its routes leave replica 1 out', async () => bothRouted('0'), 5000);
    await waitFor('the gateway routes again', async () => (await infer()) === 200, 30_000);
    stopTraffic = traffic();

    const restarted = await startMlserver({ modelsDir: mlservers[1].modelsDir, ports: mlservers[1].ports });
    mlservers[1] = restarted;
    const up = Date.now();
    const recovered = await waitFor('both models on both replicas again', async () => {
      const ms = await Promise.all([model('iris'), model('iris-tolerant')]);
      const whole = ms.every(
        (m) =>
          m.status?.availableReplicas === 2 &&
          modelReady(m)?.status === 'True' &&
          modelReady(m)?.message === undefined,
      );
      return whole && Date.now();
    });
    await waitFor('routes with replica 1 again', async () => bothRouted('0,1'), 5000);
    routes.close();
    codes.push(...(await stopTraffic()));
    const failed = codes.filter((c) => c !== 200);
    console.log(
      `MLServer restart: reported ${reported - killed} ms after the kill; replica serving again ${recovered - up} ms after MLServer was up; ${codes.length} requests, ${failed.length} failed`,
    );
    expect(reasons).toEqual([]);
    expect(failed).toEqual([]);
    expect(codes.length).toBeGreaterThan(10);
  }, 120_000);

  it('an MLServer killed under gRPC load: the agent marks the calls it cannot serve and the gateway moves them', async () => {
    // gRPC alone, so these calls (not REST ones) are the first to meet the dead server.
    const client = grpcClient(ports.gatewayGrpc);
    let running = true;
    const codes: string[] = [];
    const load = (async () => {
      while (running)
        codes.push(
          await client.call('ModelInfer', GRPC_INFER).then(
            () => 'OK',
            (e: grpc.ServiceError) => `${grpc.status[e.code]}: ${e.details}`,
          ),
        );
    })();
    await waitFor('gRPC calls answered', async () => codes.length > 5);
    process.kill(mlservers[0].pid, 'SIGKILL');
    await waitFor('the kill reported', async () =>
      modelReady(await model())?.message?.includes('mlserver-0 stopped answering'),
    );
    const during = codes.length;
    mlservers[0] = await startMlserver({ modelsDir: mlservers[0].modelsDir, ports: mlservers[0].ports });
    await waitFor('iris on both replicas again', async () => (await model()).status?.availableReplicas === 2);
    await waitFor('calls after the return', async () => codes.length > during + 20);
    running = false;
    await load;
    client.close();
    const failed = codes.filter((c) => c !== 'OK');
    console.log(`MLServer kill under gRPC load: ${codes.length} calls, ${failed.length} failed`);
    expect(failed).toEqual([]);
  }, 120_000);
});
