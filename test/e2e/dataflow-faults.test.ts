import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { KafkaBus } from '../../src/runtime/bus/kafka-bus.ts';
import { jsonRequestToMessage } from '../../src/runtime/oip/convert.ts';
import { encodeRequest } from '../../src/runtime/oip/messages.ts';
import { componentArgv } from '../../src/spec/flags.ts';
import { HEADER_ERRORS, HEADER_PIPELINE, HEADER_REQUEST_ID } from '../../src/spec/headers.ts';
import { pipelineTopic } from '../../src/spec/topics.ts';
import { API_VERSION, type PipelineSpec } from '../../src/spec/types.ts';
import { readCommitted, verdict } from './harness/delivery-oracle.ts';
import { type GrpcModels, startGrpcModels } from './harness/grpc-models.ts';
import {
  freePort,
  type KafkaBroker,
  logTail,
  type ManagedProcess,
  pollUntil,
  repoRoot,
  startKafka,
  startProcess,
} from './harness/index.ts';
import { PipelineLoad } from './harness/pipeline-load.ts';
import { describeE2E } from './harness/toolchain.ts';

/**
 * The delivery guarantee under faults, on a real broker with the dataflow as `mlops-runtime
 * dataflow` processes. Two deployments run side by side, each in its own namespace (topics):
 *
 * - `inl`: one process with every role and `--inference` (what the Runtime construct deploys):
 *   the chain and the join run inline in the engine.
 * - `top`: the roles in separate processes (engine without `--inference`, model gateway,
 *   pipeline gateway): steps travel over topics and the join holds records in its window.
 *
 * Each fault repeats MLOPS_FAULT_REPEATS times (default 3) under continuous load: synchronous
 * callers that retry errors, and asynchronous publishes straight to the input topics. The oracle
 * is Kafka's TransactionsTest one; see `checkOracle`.
 */
const REPEATS = Number(process.env.MLOPS_FAULT_REPEATS ?? 3);
const CALL_TIMEOUT_MS = 20_000;
/**
 * Recovery targets: printed next to each measured figure (met or not) rather than asserted, as
 * timings on a shared machine are no test verdict. What is asserted is the absence of a stall:
 * every pipeline answers again within STALL_MS of a fault ending.
 */
const RESUME_TARGET_MS = 10_000;
const LISTEN_TARGET_MS = 5_000;
const STALL_MS = 30_000;
/**
 * Also run the split deployment whose steps travel over topics (windowed join, separate model
 * and pipeline gateways). On unless MLOPS_FAULT_TOPICS=0, for a quicker local run.
 */
const OVER_TOPICS = process.env.MLOPS_FAULT_TOPICS !== '0';
const GATEWAY_FAULT = OVER_TOPICS ? 'pipeline-gateway kill' : 'pipeline-gateway stop';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const add =
  (n: number) => (inputs: { name: string; datatype: string; shape: number[]; data: unknown[] }[]) => [
    { name: 'x', datatype: 'FP32' as const, shape: [1, 1], data: [(inputs[0].data[0] as number) + n] },
  ];
const MODELS = { fa: add(1), fb: add(10), fc: add(100), fd: add(1000) };
const PIPELINES: Record<string, { spec: PipelineSpec; expected: (i: number) => number }> = {
  chain: {
    spec: {
      steps: [{ name: 'fa' }, { name: 'fb', inputs: ['fa'] }, { name: 'fc', inputs: ['fb'] }],
      output: { steps: ['fc'] },
    },
    expected: (i) => i + 111,
  },
  // The inner join where requests were lost: fd waits for both fa and fb (fd adds to fa's output).
  join: {
    spec: {
      steps: [{ name: 'fa' }, { name: 'fb' }, { name: 'fd', inputs: ['fa', 'fb'], inputsJoinType: 'inner' }],
      output: { steps: ['fd'] },
    },
    expected: (i) => i + 1001,
  },
};

type Role = 'engine' | 'model-gateway' | 'pipeline-gateway';

interface Component {
  name: string;
  roles: Role[];
  inference: boolean;
  httpPort?: number;
  proc?: ManagedProcess;
  /** Every log file this component wrote (one per start). */
  logs: string[];
}

interface Deployment {
  ns: string;
  components: Component[];
  gatewayPort: number;
}

describeE2E('dataflow delivery under broker, engine and pipeline-gateway faults', ['java'], () => {
  let kafka: KafkaBroker;
  let models: GrpcModels;
  let dir: string;
  let publisher: KafkaBus;
  const deployments: Deployment[] = [];
  const loads = new Map<string, PipelineLoad>();
  const figures: string[] = [];
  let starts = 0;
  let failed = false;

  const startComponent = (d: Deployment, c: Component) => {
    starts += 1;
    const logFile = join(dir, `${d.ns}-${c.name}-${starts}.log`);
    c.logs.push(logFile);
    const argv = componentArgv('dataflow', {
      brokers: kafka.brokers,
      manifests: join(dir, d.ns),
      namespace: d.ns,
      roles: c.roles,
      host: '127.0.0.1',
      'http-port': c.httpPort ?? (0 as number),
      'grpc-port': 0,
      'timeout-ms': CALL_TIMEOUT_MS - 5000,
      'instance-id': `${d.ns}-${c.name}`,
      ...(c.inference ? { inference: models.address } : {}),
    });
    c.proc = startProcess(
      `dataflow-${d.ns}-${c.name}`,
      process.execPath,
      [join(repoRoot, 'bin/mlops-runtime.js'), ...argv],
      {
        logFile,
      },
    );
  };

  /** Lines at warn level or above in every log the dataflow processes wrote. */
  const problems = () =>
    deployments.flatMap((d) =>
      d.components.flatMap((c) =>
        c.logs.flatMap((f) =>
          readFileSync(f, 'utf8')
            .split('\n')
            .filter((l) => /"level":(4|5|6)\d/.test(l))
            .map((l) => `${d.ns}/${c.name}: ${l}`),
        ),
      ),
    );

  const tails = () =>
    deployments
      .flatMap((d) =>
        d.components.map((c) => `--- ${d.ns}/${c.name}\n${logTail(c.logs[c.logs.length - 1], 25)}`),
      )
      .join('\n');

  const ready = async (d: Deployment, pipeline: string) => {
    const res = await fetch(`http://127.0.0.1:${d.gatewayPort}/v2/pipelines/${pipeline}/ready`).catch(
      () => undefined,
    );
    return res?.status === 200;
  };

  /** Waits until every pipeline of `d` takes calls; returns how long that took from `since`. */
  const untilReady = async (d: Deployment, since: number, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const all = await Promise.all(Object.keys(PIPELINES).map((p) => ready(d, p)));
      if (all.every(Boolean)) return Date.now() - since;
      if (Date.now() > deadline)
        throw new Error(`${d.ns}: pipelines not ready in ${timeoutMs} ms\n${tails()}`);
      await sleep(50);
    }
  };

  /** Per pipeline of each deployment, ms from `t` until a call started at or after `t` was answered. */
  const untilResumed = async (t: number, timeoutMs = 60_000): Promise<Map<string, number>> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const out = new Map<string, number>();
      for (const [label, load] of loads) {
        const at = load.firstAnswerAfter(t);
        if (at !== undefined) out.set(label, at - t);
      }
      if (out.size === loads.size) return out;
      if (Date.now() > deadline) {
        const missing = [...loads.keys()].filter((l) => !out.has(l));
        throw new Error(`no answer from ${missing.join(', ')} within ${timeoutMs} ms\n${tails()}`);
      }
      await sleep(50);
    }
  };

  const report = (
    fault: string,
    repeat: number,
    what: string,
    ms: Map<string, number> | number,
    target?: number,
  ) => {
    const values = typeof ms === 'number' ? [ms] : [...ms.values()];
    const text =
      typeof ms === 'number' ? `${ms} ms` : [...ms].map(([label, v]) => `${label} ${v} ms`).join(', ');
    const met = target === undefined ? '' : Math.max(...values) <= target ? ' — met' : ' — NOT met';
    const goal = target === undefined ? '' : ` (target ${target} ms${met})`;
    figures.push(`${fault} #${repeat}: ${what}: ${text}${goal}`);
  };

  /**
   * The oracle, per pipeline: read every committed record of its input and output topics with a
   * fresh read_committed consumer; the keys on the input topic (every request published, whether
   * or not its caller learnt of it) must equal the keys on the output topic, each output key
   * exactly once, none of them an error; and every acknowledged request (answered 200, or its
   * asynchronous publish acknowledged) must be among the inputs. Requests whose call failed and
   * that never reached the input topic are the only ones allowed to vanish: their callers were told.
   */
  const lostKeys: [string, string][] = [];
  const doubledKeys: [string, string][] = [];
  /**
   * Where the records of lost requests got to (every topic of their namespace that holds their
   * key), and where those of doubled ones were written twice (topic, partition and offsets).
   */
  const trace = async () => {
    if (!lostKeys.length && !doubledKeys.length) return;
    const kafkaAdmin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await kafkaAdmin.connect();
    const all = await kafkaAdmin.listTopics();
    for (const ns of new Set([...lostKeys, ...doubledKeys].map(([n]) => n))) {
      const topics = all.filter((t) => t.startsWith(`seldon.${ns}.`));
      const seen = await readCommitted(kafka.brokers, topics, { quietMs: 5000, timeoutMs: 60_000 });
      // The engine groups' committed positions, to tell a record skipped from one still held.
      const groups = (await kafkaAdmin.listGroups()).groups
        .map((g) => g.groupId)
        .filter((g) => g.startsWith(`${ns}-seldon-dataflow-`));
      const committed = new Map<string, string>();
      for (const groupId of groups)
        for (const t of await kafkaAdmin.fetchOffsets({ groupId }))
          for (const p of t.partitions) committed.set(`${t.topic}:${p.partition}`, `${groupId}@${p.offset}`);
      for (const [, key] of lostKeys.filter(([n]) => n === ns)) {
        const where = topics.flatMap((t) =>
          (seen.get(t) ?? [])
            // A stateful step's done marker is keyed `<step index>\0<request>`.
            .filter((r) => r.key === key || r.key.endsWith(`\u0000${key}`))
            .map(
              (r) =>
                `${t} ${r.partition}@${r.offset} (${committed.get(`${t}:${r.partition}`) ?? 'no commit'})`,
            ),
        );
        figures.push(`lost ${key}: on ${where.join(', ')}`);
      }
      for (const [, key] of doubledKeys.filter(([n]) => n === ns)) {
        const where = topics.flatMap((t) => {
          const rs = (seen.get(t) ?? []).filter((r) => r.key === key);
          return rs.length > 1 ? [`${t} [${rs.map((r) => `${r.partition}@${r.offset}`).join(' ')}]`] : [];
        });
        figures.push(`doubled ${key}: twice on ${where.join(', ')}`);
      }
    }
    await kafkaAdmin.disconnect();
  };

  const checkOracle = async () => {
    for (const d of deployments) {
      const topics = Object.keys(PIPELINES).flatMap((p) => [
        pipelineTopic({ namespace: d.ns, prefix: 'seldon' }, p, 'inputs'),
        pipelineTopic({ namespace: d.ns, prefix: 'seldon' }, p, 'outputs'),
      ]);
      const seen = await readCommitted(kafka.brokers, topics, {
        toEnd: topics.filter((_, i) => i % 2 === 0),
        done: (s) => {
          for (let i = 0; i < topics.length; i += 2) {
            const outs = new Set((s.get(topics[i + 1]) ?? []).map((r) => r.key));
            if ((s.get(topics[i]) ?? []).some((r) => !outs.has(r.key))) return false;
          }
          return true;
        },
      });
      Object.keys(PIPELINES).forEach((p, n) => {
        const label = `${d.ns}/${p}`;
        const load = loads.get(label) as PipelineLoad;
        const v = verdict(
          seen.get(topics[2 * n]) ?? [],
          seen.get(topics[2 * n + 1]) ?? [],
          load.acknowledged,
          HEADER_REQUEST_ID,
          HEADER_ERRORS,
        );
        if (v.lost.length) lostKeys.push(...v.lost.map((l) => [d.ns, l.split(' ')[0]] as [string, string]));
        if (v.duplicated.length)
          doubledKeys.push(...v.duplicated.map((l) => [d.ns, l.split(' ')[0]] as [string, string]));
        expect({ pipeline: label, ...v, lost: v.lost.slice(0, 10) }).toEqual({
          pipeline: label,
          inputs: v.inputs,
          outputs: v.inputs,
          lost: [],
          duplicated: [],
          unexpected: [],
          errors: [],
          unrecorded: [],
        });
        expect(load.wrong).toEqual([]);
        expect(load.hung).toEqual([]);
      });
    }
  };

  const startLoads = () => {
    for (const l of loads.values()) l.start();
  };
  const stopLoads = async () => {
    await Promise.all([...loads.values()].map((l) => l.stop()));
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlops-e2e-faults-'));
    [kafka, models] = await Promise.all([startKafka(), startGrpcModels(MODELS)]);
    publisher = new KafkaBus({
      brokers: kafka.brokers,
      logger: pino({ level: 'silent' }),
      instanceId: 'faults-async',
    });
    const all: Role[] = ['engine', 'model-gateway', 'pipeline-gateway'];
    const inl: Deployment = {
      ns: 'inl',
      gatewayPort: await freePort(),
      components: [{ name: 'dataflow', roles: all, inference: true, logs: [] }],
    };
    inl.components[0].httpPort = inl.gatewayPort;
    const top: Deployment = {
      ns: 'top',
      gatewayPort: await freePort(),
      components: [
        { name: 'engine', roles: ['engine'], inference: false, logs: [] },
        { name: 'model-gateway', roles: ['model-gateway'], inference: true, logs: [] },
        { name: 'pipeline-gateway', roles: ['pipeline-gateway'], inference: false, logs: [] },
      ],
    };
    top.components[2].httpPort = top.gatewayPort;
    deployments.push(inl);
    if (OVER_TOPICS) deployments.push(top);
    for (const d of deployments) {
      mkdirSync(join(dir, d.ns));
      const docs = Object.entries(PIPELINES).map(([name, p]) =>
        stringify({
          apiVersion: API_VERSION,
          kind: 'Pipeline',
          metadata: { name, namespace: d.ns },
          spec: p.spec,
        }),
      );
      writeFileSync(join(dir, d.ns, 'pipelines.yaml'), docs.join('---\n'));
      for (const c of d.components) startComponent(d, c);
      for (const [p, def] of Object.entries(PIPELINES)) {
        const naming = { namespace: d.ns, prefix: 'seldon' };
        loads.set(
          `${d.ns}/${p}`,
          new PipelineLoad(
            {
              label: `${d.ns}/${p}`,
              url: `http://127.0.0.1:${d.gatewayPort}/v2/pipelines/${p}/infer`,
              expected: def.expected,
              publish: (id, i) =>
                publisher.publish([
                  {
                    topic: pipelineTopic(naming, p, 'inputs'),
                    key: id,
                    value: encodeRequest(
                      jsonRequestToMessage(
                        { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [i] }] },
                        p,
                      ),
                    ),
                    headers: { [HEADER_PIPELINE]: p, [HEADER_REQUEST_ID]: id },
                  },
                ]),
            },
            CALL_TIMEOUT_MS,
          ),
        );
      }
    }
    for (const d of deployments) await untilReady(d, Date.now(), 90_000);
    // Warm-up: the first calls also wait for the groups to form and the coordinators to load.
    for (const [label, load] of loads) {
      await pollUntil(`${label} answers`, () => load.callOnce(), { timeoutMs: 90_000, intervalMs: 500 });
    }
  }, 300_000);

  afterAll(async () => {
    await stopLoads().catch(() => {});
    await trace().catch((err) => figures.push(`trace failed: ${err}`));
    for (const d of deployments) for (const c of d.components) await c.proc?.stop(5000);
    await publisher?.close().catch(() => {});
    await models?.close();
    await kafka?.stop();
    if (figures.length) console.log(`dataflow fault suite figures:\n  ${figures.join('\n  ')}`);
    // The processes' logs stay for a failed run.
    if (dir && !failed) rmSync(dir, { recursive: true, force: true });
    else if (dir) console.log(`dataflow logs kept in ${dir}`);
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') failed = true;
  });

  it('healthy: every request answered once, nothing logged at warn or above', async () => {
    const warmUpErrors = new Map([...loads].map(([label, l]) => [label, l.errors.length]));
    const t = Date.now();
    startLoads();
    const resumed = await untilResumed(t);
    await sleep(4000);
    await stopLoads();
    report('healthy', 1, 'first answer after the load started', resumed);
    for (const [label, l] of loads) expect(l.errors.slice(warmUpErrors.get(label))).toEqual([]);
    await checkOracle();
    expect(problems()).toEqual([]);
  }, 120_000);

  describe.each([
    ['graceful', 'graceful'],
    ['kill -9', 'kill'],
  ] as const)('broker %s restart', (_, how) => {
    it(
      `loses no acknowledged request across ${REPEATS} restarts; pipelines resume after the broker returns`,
      async () => {
        startLoads();
        for (let r = 1; r <= REPEATS; r++) {
          await sleep(1500);
          await kafka.down(how);
          await sleep(2000);
          await kafka.up();
          const back = Date.now();
          const resumed = await untilResumed(back, STALL_MS);
          report(`broker ${how}`, r, 'resumed after the broker returned', resumed, RESUME_TARGET_MS);
        }
        await sleep(1000);
        await stopLoads();
        await checkOracle();
      },
      120_000 + REPEATS * 60_000,
    );
  });

  it(
    `loses no acknowledged request across ${REPEATS} engine kills (kill -9); a restarted dataflow takes calls and resumes`,
    async () => {
      const [inl, top] = deployments;
      startLoads();
      for (let r = 1; r <= REPEATS; r++) {
        await sleep(1500);
        const victims: [Deployment, Component][] = [[inl, inl.components[0]]];
        if (top) victims.push([top, top.components[0]]);
        for (const [, c] of victims) {
          process.kill(-(c.proc as ManagedProcess).pid, 'SIGKILL');
          await c.proc?.exited;
        }
        const restarted = Date.now();
        for (const [d, c] of victims) startComponent(d, c);
        const listening = await untilReady(inl, restarted, STALL_MS);
        report(
          'engine kill',
          r,
          'all-roles dataflow takes calls after its restart',
          listening,
          LISTEN_TARGET_MS,
        );
        const resumed = await untilResumed(restarted, STALL_MS);
        report('engine kill', r, 'resumed after the restart', resumed, RESUME_TARGET_MS);
      }
      await sleep(1000);
      await stopLoads();
      await checkOracle();
    },
    120_000 + REPEATS * 60_000,
  );

  // With the split deployment its pipeline-gateway process is killed (-9); otherwise the all-roles
  // process is stopped gracefully (SIGTERM), the other way a gateway goes away under its callers.
  it(
    `pipeline-gateway ${OVER_TOPICS ? 'kills (kill -9' : 'stops (SIGTERM'}, ${REPEATS}×): in-flight callers get an error, not a hang; nothing acknowledged is lost`,
    async () => {
      const d = deployments[deployments.length - 1];
      const gateway = d.components[d.components.length - 1];
      startLoads();
      for (let r = 1; r <= REPEATS; r++) {
        await sleep(1500);
        const inflight = [...loads]
          .filter(([l]) => l.startsWith(`${d.ns}/`))
          .flatMap(([, l]) => l.callsInFlight());
        const killed = Date.now();
        if (OVER_TOPICS) process.kill(-(gateway.proc as ManagedProcess).pid, 'SIGKILL');
        else process.kill(-(gateway.proc as ManagedProcess).pid, 'SIGTERM');
        await gateway.proc?.exited;
        await Promise.all(inflight);
        report(
          GATEWAY_FAULT,
          r,
          `${inflight.length} in-flight calls settled after the kill`,
          Date.now() - killed,
        );
        expect(Date.now() - killed).toBeLessThan(5000);
        const restarted = Date.now();
        startComponent(d, gateway);
        report(
          GATEWAY_FAULT,
          r,
          'takes calls after its restart',
          await untilReady(d, restarted, STALL_MS),
          LISTEN_TARGET_MS,
        );
        const resumed = await untilResumed(restarted, STALL_MS);
        report(GATEWAY_FAULT, r, 'resumed after the restart', resumed, RESUME_TARGET_MS);
      }
      await sleep(1000);
      await stopLoads();
      await checkOracle();
    },
    120_000 + REPEATS * 60_000,
  );
});
