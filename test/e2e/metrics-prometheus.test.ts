// The runtime's metrics as a user's Prometheus sees them: `mlops dev` runs an app with real
// MLServer, a real Prometheus scrapes every metrics URL dev prints, and after a short load each
// query of the synthesized Grafana dashboard and each synthesized Prometheus Adapter rule
// parses and returns series with the labels its panel or its autoscaler groups by.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import {
  freePort,
  type PrometheusInstance,
  pollUntil,
  repoRoot,
  startPrometheus,
  trainIrisModel,
} from './harness/index.ts';
import { describeE2E } from './harness/toolchain.ts';

const run = promisify(execFile);
const bin = join(repoRoot, 'bin', 'mlops.js');
const NAMESPACE = 'demo';

const APP = `
import { Size } from 'cdk8s';
import { Environment, MetricAutoscaler, MlopsApp, Model, Pipeline, Runtime, Server, ServerConfig } from 'cdk8s-mlops';

const app = new MlopsApp();
const env = new Environment(app, 'observed', { namespace: '${NAMESPACE}' });
new Runtime(env, 'runtime', { kafka: { bootstrapServers: ['kafka:9092'] }, monitoring: {} });
const mlserver = new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER, memory: Size.mebibytes(512), replicas: 1 });
const iris = new Model(env, 'iris', { storageUri: process.env.IRIS_URI ?? '', requirements: ['sklearn'], memory: '10Mi', server: mlserver, replicas: 1 });
new Pipeline(env, 'flowers', { steps: [{ model: iris }], output: { steps: [iris] } });
new MetricAutoscaler(env, 'iris-rate', { target: iris, targetValue: 5, maxReplicas: 3 });
new MetricAutoscaler(env, 'mlserver-latency', { target: mlserver, metric: 'inferLatency', targetValue: 0.5, maxReplicas: 2 });
app.synth();
`;

// biome-ignore lint/suspicious/noExplicitAny: synthesized, untyped YAML
type Json = any;

const GOOD = JSON.stringify({
  inputs: [{ name: 'predict', shape: [1, 4], datatype: 'FP64', data: [5.1, 3.5, 1.4, 0.2] }],
});
/** Valid for the protocol, wrong for the model (3 features, not 4): the model fails it. */
const BAD = JSON.stringify({
  inputs: [{ name: 'predict', shape: [1, 3], datatype: 'FP64', data: [5.1, 3.5, 1.4] }],
});

/** What each `by (...)` label of a dashboard query must be, after the load below. */
const EXPECTED: Record<string, string[]> = {
  model: ['iris'],
  pipeline: ['flowers'],
  server: ['mlserver'],
  server_replica: ['0'],
};

/**
 * What the load below makes each panel show: 4 of 24 calls to the model and to the pipeline
 * failed, one 10Mi model is registered and in memory on a 512Mi replica, nothing waits in a topic.
 */
const VALUES: Record<string, (v: number, legend: string) => boolean> = {
  'Model inference rate': (v) => v > 0,
  'Pipeline request rate': (v) => v > 0,
  'Model error ratio': (v) => v > 0.05 && v < 0.4,
  'Pipeline error ratio': (v) => v > 0.05 && v < 0.4,
  'Model latency percentiles': (v) => v > 0 && v < 10,
  'Pipeline latency percentiles': (v) => v > 0 && v < 10,
  'Models per server': (v, legend) => v === (legend.endsWith('evicted') ? 0 : 1),
  'Memory per server replica': (v, legend) =>
    legend.endsWith('over-commit')
      ? v > 512 * 2 ** 20
      : v === (legend.endsWith('in memory') ? 10 * 2 ** 20 : legend.endsWith('evicted') ? 0 : 512 * 2 ** 20),
  'Kafka lag per pipeline': (v) => v === 0,
  'Models by state': (v) => v === 1,
};

function startDev(cwd: string, port: number): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [bin, 'dev', '--port', String(port)], {
    cwd,
    detached: true,
    stdio: 'pipe',
  });
  let out = '';
  child.stdout?.on('data', (c) => {
    out += c;
  });
  child.stderr?.on('data', (c) => {
    out += c;
  });
  return { child, output: () => out };
}

function objectsIn(dir: string): Json[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS()));
}

const post = (url: string, body: string) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((r) => r.status);

describeE2E('runtime metrics scraped by a real Prometheus', ['python3'], () => {
  let project: string;
  let dev: ReturnType<typeof startDev> | undefined;
  let prometheus: PrometheusInstance | undefined;
  let objects: Json[];
  let gateway: string;

  beforeAll(async () => {
    project = mkdtempSync(join(tmpdir(), 'mlops-e2e-metrics-'));
    const model = await trainIrisModel(join(project, 'models'));
    writeFileSync(join(project, 'observed.ts'), APP);
    await run(
      process.execPath,
      [bin, 'synth', '--app', join(project, 'observed.ts'), '--out', join(project, 'dist', 'observed')],
      {
        cwd: project,
        env: { ...process.env, IRIS_URI: `file://${model}` },
      },
    );
    objects = objectsIn(join(project, 'dist', 'observed'));

    const gatewayPort = await freePort();
    dev = startDev(project, gatewayPort);
    const running = dev;
    await pollUntil(
      'mlops dev to print its endpoints',
      async () => running.output().includes('Press Ctrl-C'),
      {
        timeoutMs: 90_000,
      },
    ).catch((err) => {
      throw new Error(`${(err as Error).message}\n${running.output().slice(-3000)}`);
    });
    gateway = `http://127.0.0.1:${gatewayPort}`;
    // Every metrics URL dev printed, labelled as the prometheus-operator labels a pod's targets.
    const endpoints = [...running.output().matchAll(/^ {2}metrics {4}(\S+) +(http:\/\/\S+)$/gm)];
    expect(endpoints.map((m) => m[1]).sort()).toEqual([
      'agent/mlserver-0',
      'dataflow',
      'gateway',
      'mlserver/mlserver-0',
      'scheduler',
    ]);
    prometheus = await startPrometheus(
      endpoints.map(([, component, url]) => ({
        url,
        labels: {
          namespace: NAMESPACE,
          container: component.split('/')[0],
          pod: component.split('/')[1] ?? component,
        },
      })),
    );
  }, 180_000);

  afterAll(async () => {
    await prometheus?.stop();
    if (dev?.child.pid && dev.child.exitCode === null) process.kill(-dev.child.pid, 'SIGKILL');
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it("answers every dashboard query, and every adapter rule's, with series labelled as they group by", async () => {
    const running = dev as NonNullable<typeof dev>;
    const prom = prometheus as PrometheusInstance;
    await pollUntil(
      'iris and flowers to be ready',
      async () => running.output().includes('pipeline flowers: Ready'),
      {
        timeoutMs: 90_000,
      },
    );
    // Prometheus applies discovered targets a few seconds after it starts: the load must come
    // after every target has been scraped once, or it happens before the first sample.
    await pollUntil(
      'every target scraped',
      async () => {
        const r = (await (await fetch(`${prom.url}/api/v1/targets`)).json()) as Json;
        // The five targets dev printed (checked above).
        const active: Json[] = r.data?.activeTargets ?? [];
        return active.length === 5 && active.every((t) => t.health === 'up');
      },
      { timeoutMs: 30_000, intervalMs: 500, logs: [prom.logFile] },
    );
    // A short load: successes and model failures, through a model and a pipeline.
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      statuses.push(await post(`${gateway}/v2/models/iris/infer`, GOOD));
      statuses.push(await post(`${gateway}/v2/pipelines/flowers/infer`, GOOD));
      if (i % 5 === 0) {
        statuses.push(await post(`${gateway}/v2/models/iris/infer`, BAD));
        statuses.push(await post(`${gateway}/v2/pipelines/flowers/infer`, BAD));
      }
      // A labelled series first appears at its first increment: let Prometheus scrape it (every
      // 1 s) before the rest, or a load done between two scrapes shows a rate of 0.
      if (i === 0) await new Promise((r) => setTimeout(r, 2500));
    }
    // And sampled again after it (scrapes every 1 s), so each rate sees the increase.
    await new Promise((r) => setTimeout(r, 2500));
    expect(statuses.filter((s) => s === 200)).toHaveLength(40);
    expect(statuses.filter((s) => s >= 400)).toHaveLength(8);

    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1');
    const dashboard = JSON.parse(Object.values(cm.data as Record<string, string>)[0]);
    const targets: { title: string; legend: string; expr: string }[] = dashboard.panels.flatMap((p: Json) =>
      p.targets.map((t: Json) => ({ title: p.title, legend: t.legendFormat, expr: t.expr })),
    );
    expect(targets.length).toBeGreaterThan(10);
    for (const { title, legend, expr: template } of targets) {
      const expr = template.replaceAll('$namespace', NAMESPACE);
      const by =
        /by \(([^)]*)\)/
          .exec(expr)?.[1]
          .split(',')
          .map((l) => l.trim())
          .filter((l) => l !== 'le') ?? [];
      const series = await pollUntil(
        `data for ${expr}`,
        async () => {
          const r = await prom.query(expr);
          if (r.status !== 'success') throw new Error(`${expr}: ${r.error}`);
          const result = r.data?.result ?? [];
          return result.length > 0 && result.every((s) => Number.isFinite(Number(s.value[1]))) && result;
        },
        { timeoutMs: 30_000, intervalMs: 500, logs: [prom.logFile] },
      );
      for (const s of series) {
        const value = Number(s.value[1]);
        const check = VALUES[title]?.(value, legend);
        if (check !== undefined) expect(check, `${title} / ${legend} = ${value} (${expr})`).toBe(true);
        for (const label of by) {
          expect(s.metric[label], `${label} of ${JSON.stringify(s.metric)} from ${expr}`).toBeDefined();
          if (EXPECTED[label]) expect(EXPECTED[label], expr).toContain(s.metric[label]);
        }
      }
    }

    // The adapter finds each rule's series with the labels naming the objects, and its query
    // gives the autoscaled objects a value.
    const adapter = objects.find(
      (o) => o.kind === 'ConfigMap' && o.metadata.name === 'prometheus-adapter-rules',
    );
    const rules = parseYaml(adapter.data['config.yaml']).rules as Json[];
    expect(rules.map((r) => r.name.as).sort()).toEqual(['infer_latency_seconds', 'infer_rps']);
    for (const [label, value] of [
      ['model', 'iris'],
      ['server', 'mlserver'],
    ]) {
      for (const rule of rules) {
        const name = /^([a-z_]+)\{/.exec(rule.seriesQuery)?.[1] as string;
        const expr = rule.metricsQuery
          .replaceAll('<<.Series>>', name)
          .replaceAll('<<.LabelMatchers>>', `namespace="${NAMESPACE}",${label}="${value}"`)
          .replaceAll('<<.GroupBy>>', label);
        const r = await prom.query(expr);
        expect(r.status, `${expr}: ${r.error}`).toBe('success');
        expect(
          r.data?.result.map((s) => s.metric[label]),
          expr,
        ).toEqual([value]);
        expect(Number(r.data?.result[0].value[1]), expr).toBeGreaterThan(0);
        expect(Object.keys(rule.resources.overrides)).toEqual(expect.arrayContaining(['namespace', label]));
      }
    }
  }, 150_000);
});
