// Traces of every hop in a real Jaeger: `mlops dev --kafka --otlp` with real MLServer and Kafka,
// requests sent with a W3C traceparent, and the trace read back through Jaeger's query API.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, type KafkaBroker, repoRoot, startKafka, trainIrisModel } from './harness/index.ts';
import { type Jaeger, startJaeger, type TracedSpan } from './harness/jaeger.ts';
import { pollUntil } from './harness/process.ts';
import { describeE2E } from './harness/toolchain.ts';

const run = promisify(execFile);
const bin = join(repoRoot, 'bin', 'mlops.js');
const FLOWERS = {
  inputs: [{ name: 'predict', shape: [1, 4], datatype: 'FP64', data: [5.1, 3.5, 1.4, 0.2] }],
};

// Three iris models chained by triggers (each reads the pipeline's input, the next waits for the
// previous one's output), and a second pipeline fed by the first one's input.
const APP = `
import { Size } from 'cdk8s';
import { Environment, MlopsApp, Model, Pipeline, Server, ServerConfig } from 'cdk8s-mlops';

const app = new MlopsApp();
const env = new Environment(app, 'traced', { namespace: 'demo' });
const server = new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER, memory: Size.mebibytes(512) });
const model = (name: string) =>
  new Model(env, name, { storageUri: process.env.IRIS_URI ?? '', requirements: ['sklearn'], memory: '10Mi', server });
const [a, b, c, d] = ['iris-a', 'iris-b', 'iris-c', 'iris-d'].map(model);
const chain = new Pipeline(env, 'chain', {
  steps: [{ model: a }, { model: b, triggers: [a] }, { model: c, triggers: [b] }],
  output: { steps: [c] },
});
new Pipeline(env, 'follower', {
  input: { externalInputs: [chain.inputs('predict')] },
  steps: [{ model: d }],
  output: { steps: [d] },
});
app.synth();
`;

/** A fresh W3C traceparent, as a caller that traces sends it. */
function traceparent(): { header: string; traceId: string; spanId: string } {
  const hex = (n: number) =>
    Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join('');
  const traceId = hex(32);
  const spanId = hex(16);
  return { header: `00-${traceId}-${spanId}-01`, traceId, spanId };
}

/** The one span of `operation` (and service) whose parent is `parent`. */
function child(
  spans: TracedSpan[],
  parent: TracedSpan | string,
  operation: string,
  service: string,
): TracedSpan {
  const parentId = typeof parent === 'string' ? parent : parent.spanID;
  const found = spans.filter((s) => s.operationName === operation && s.parent === parentId);
  const shown = spans
    .map((s) => `${s.service}/${s.operationName} ${s.spanID} <- ${s.parent ?? 'root'}`)
    .join('\n');
  expect(found, `one ${operation} under ${parentId} in:\n${shown}`).toHaveLength(1);
  expect(found[0].service).toBe(service);
  return found[0];
}

/** The gateway → agent → inference server spans under `parent` (a step or the caller). */
function modelHops(spans: TracedSpan[], parent: TracedSpan | string, protocol: 'rest' | 'grpc'): void {
  const gateway = child(spans, parent, `gateway.${protocol}`, 'mlops-gateway');
  const agent = child(spans, gateway, `agent.proxy.${protocol}`, 'mlops-agent');
  child(spans, agent, `inference-server.${protocol}`, 'mlops-agent');
}

describeE2E(
  'traces across every hop in a real Jaeger (mlops dev, MLServer, Kafka)',
  ['python3', 'java'],
  () => {
    let project: string;
    let kafka: KafkaBroker;
    let jaeger: Jaeger;
    let dev: ChildProcess | undefined;
    let output = '';
    let gateway: string;

    beforeAll(async () => {
      project = mkdtempSync(join(tmpdir(), 'mlops-e2e-tracing-'));
      const [model, broker, receiver] = await Promise.all([
        trainIrisModel(join(project, 'models')),
        startKafka(),
        startJaeger(),
      ]);
      [kafka, jaeger] = [broker, receiver];
      writeFileSync(join(project, 'traced.ts'), APP);
      await run(
        process.execPath,
        [bin, 'synth', '--app', join(project, 'traced.ts'), '--out', join(project, 'dist', 'traced')],
        {
          cwd: project,
          env: { ...process.env, IRIS_URI: `file://${model}` },
        },
      );
      const port = await freePort();
      gateway = `http://127.0.0.1:${port}`;
      dev = spawn(
        process.execPath,
        [bin, 'dev', '--port', String(port), '--kafka', kafka.brokers.join(','), '--otlp', jaeger.otlpUrl],
        // Spans leave each component every 200 ms instead of every 5 s: the test reads them soon after.
        {
          cwd: project,
          detached: true,
          stdio: 'pipe',
          env: { ...process.env, OTEL_BSP_SCHEDULE_DELAY: '200' },
        },
      );
      dev.stdout?.on('data', (c) => {
        output += c;
      });
      dev.stderr?.on('data', (c) => {
        output += c;
      });
      await pollUntil(
        'mlops dev with every model available and both pipelines ready',
        async () =>
          ['iris-a', 'iris-b', 'iris-c', 'iris-d'].every((m) =>
            output.includes(`model ${m}: ModelAvailable`),
          ) && ['chain', 'follower'].every((p) => output.includes(`pipeline ${p}: Ready`))
            ? true
            : undefined,
        { timeoutMs: 180_000, intervalMs: 300 },
      ).catch((err) => {
        throw new Error(`${(err as Error).message}\nmlops dev output:\n${output.slice(-4000)}`);
      });
    }, 300_000);

    afterAll(async () => {
      if (dev?.pid && dev.exitCode === null) {
        try {
          process.kill(-dev.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await kafka?.stop();
      await jaeger?.stop();
      if (project) rmSync(project, { recursive: true, force: true });
    });

    /** The trace once it holds at least `counts[name]` spans of each name (they arrive in batches). */
    const traceWith = (traceId: string, counts: Record<string, number>) =>
      pollUntil(
        `spans ${JSON.stringify(counts)} in trace ${traceId}`,
        async () => {
          const spans = await jaeger.trace(traceId);
          const has = (name: string) => spans.filter((s) => s.operationName === name).length;
          return Object.entries(counts).every(([name, n]) => has(name) >= n) ? spans : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 250, logs: [jaeger.logFile] },
      );
    const hops = (protocol: string, n: number) => ({
      [`gateway.${protocol}`]: n,
      [`agent.proxy.${protocol}`]: n,
      [`inference-server.${protocol}`]: n,
    });

    const post = (path: string, header: string) =>
      fetch(`${gateway}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: header },
        body: JSON.stringify(FLOWERS),
      });

    it('says where traces go, and follows a model call from the caller through gateway and agent to MLServer', async () => {
      expect(output).toContain(`traces     ${jaeger.otlpUrl}/v1/traces (OTLP/HTTP, every request)`);
      const caller = traceparent();
      const res = await post('/v2/models/iris-a/infer', caller.header);
      expect(res.status).toBe(200);
      const spans = await traceWith(caller.traceId, hops('rest', 1));
      // The caller's trace is continued: the gateway's span is a child of the caller's.
      modelHops(spans, caller.spanId, 'rest');
    }, 60_000);

    it('traces each model load from the scheduler to the agent that carried it out', async () => {
      const spans = await pollUntil(
        'an agent.load under a scheduler.load for each model',
        async () => {
          const all = await jaeger.spans('mlops-scheduler', 'scheduler.load');
          return all.filter((s) => s.operationName === 'agent.load').length >= 4 ? all : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 250 },
      );
      for (const model of ['iris-a', 'iris-b', 'iris-c', 'iris-d']) {
        const load = spans.find(
          (s) => s.operationName === 'scheduler.load' && s.tags['mlops.model'] === model,
        );
        expect(load?.service, model).toBe('mlops-scheduler');
        expect(child(spans, load as TracedSpan, 'agent.load', 'mlops-agent').tags['mlops.model']).toBe(model);
      }
    }, 60_000);

    it('follows a 3-step pipeline over Kafka and the pipeline it feeds, every step and model call in one trace', async () => {
      const caller = traceparent();
      const res = await post('/v2/pipelines/chain/infer', caller.header);
      expect(res.status, await res.clone().text()).toBe(200);
      expect(((await res.json()) as { model_name: string }).model_name).toBe('chain');
      const steps = ['iris-a', 'iris-b', 'iris-c', 'iris-d'].map((m) => [`pipeline.step ${m}`, 1]);
      const spans = await traceWith(caller.traceId, {
        'gateway.rest': 1,
        'pipeline-gateway.infer': 1,
        ...Object.fromEntries(steps),
        ...hops('grpc', 4),
      });
      const ingress = child(spans, caller.spanId, 'gateway.rest', 'mlops-gateway');
      const pipelineGateway = child(spans, ingress, 'pipeline-gateway.infer', 'mlops-dataflow');
      for (const model of ['iris-a', 'iris-b', 'iris-c']) {
        const step = child(spans, pipelineGateway, `pipeline.step ${model}`, 'mlops-dataflow');
        expect(step.tags['mlops.pipeline']).toBe('chain');
        modelHops(spans, step, 'grpc');
      }
      // The follower reads the chain's input record: its step continues the same trace.
      const followed = child(spans, pipelineGateway, 'pipeline.step iris-d', 'mlops-dataflow');
      expect(followed.tags['mlops.pipeline']).toBe('follower');
      modelHops(spans, followed, 'grpc');
    }, 60_000);
  },
);
