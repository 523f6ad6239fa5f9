// Synthesis at scale: 1,000 models, 50 servers, 200 five-step pipelines and 100 experiments,
// built with our constructs and synthesized in full (validation, rendering, serializing, writing),
// against a baseline that writes the same custom resources as raw cdk8s ApiObjects with cdk8s'
// own `app.synth()`. Each run is a separate process so its peak memory is its own.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiObject, App, Chart, YamlOutputType } from 'cdk8s';
import { Environment } from '../src/constructs/environment.ts';
import { Experiment } from '../src/constructs/experiment.ts';
import { Model } from '../src/constructs/model.ts';
import { Pipeline } from '../src/constructs/pipeline.ts';
import { Server } from '../src/constructs/server.ts';
import { ServerConfig } from '../src/constructs/server-config.ts';
import { MlopsApp } from '../src/synth/app.ts';

const SIZE = { models: 1000, servers: 50, pipelines: 200, steps: 5, experiments: 100 };
const RUNS = 5;
const TARGET_RATIO = 2;
const TARGET_MS = 5000;
const NS = 'bench';
const GROUP = 'mlops.seldon.io/v1alpha1';

type Variant = 'ours' | 'baseline';
interface Measure {
  ms: number;
  cpuMs: number;
  maxRssMb: number;
  files: number;
}

const modelName = (i: number) => `model-${i}`;
const stepModel = (p: number, s: number) => (p * SIZE.steps + s) % SIZE.models;

function ours(outdir: string): number {
  const app = new MlopsApp({ outdir });
  const env = new Environment(app, NS, { namespace: NS });
  for (let i = 0; i < SIZE.servers; i++) {
    new Server(env, `server-${i}`, { serverConfig: ServerConfig.MLSERVER, replicas: 1 });
  }
  const models: Model[] = [];
  for (let i = 0; i < SIZE.models; i++) {
    models.push(
      new Model(env, modelName(i), {
        storageUri: `gs://bench/models/${i}`,
        requirements: ['sklearn'],
        memory: '100Mi',
        replicas: 1,
      }),
    );
  }
  for (let p = 0; p < SIZE.pipelines; p++) {
    const chain = Array.from({ length: SIZE.steps }, (_, s) => models[stepModel(p, s)]);
    new Pipeline(env, `pipeline-${p}`, {
      steps: chain.map((model, s) => (s === 0 ? { model } : { model, inputs: [chain[s - 1]] })),
      output: { steps: [chain[SIZE.steps - 1]] },
    });
  }
  for (let e = 0; e < SIZE.experiments; e++) {
    const [a, b] = [models[2 * e], models[2 * e + 1]];
    new Experiment(env, `experiment-${e}`, {
      candidates: [
        { target: a, weight: 50 },
        { target: b, weight: 50 },
      ],
      default: a,
    });
  }
  app.synth();
  return readdirSync(outdir).length;
}

function baseline(outdir: string): number {
  const app = new App({ outdir, yamlOutputType: YamlOutputType.FILE_PER_RESOURCE });
  const chart = new Chart(app, NS, { namespace: NS });
  const object = (kind: string, name: string, spec: Record<string, unknown>) =>
    new ApiObject(chart, `${kind}-${name}`, { apiVersion: GROUP, kind, metadata: { name }, spec });
  for (let i = 0; i < SIZE.servers; i++)
    object('Server', `server-${i}`, { serverConfig: 'mlserver', replicas: 1 });
  for (let i = 0; i < SIZE.models; i++) {
    object('Model', modelName(i), {
      storageUri: `gs://bench/models/${i}`,
      requirements: ['sklearn'],
      memory: '100Mi',
      replicas: 1,
    });
  }
  for (let p = 0; p < SIZE.pipelines; p++) {
    const chain = Array.from({ length: SIZE.steps }, (_, s) => modelName(stepModel(p, s)));
    object('Pipeline', `pipeline-${p}`, {
      steps: chain.map((name, s) => (s === 0 ? { name } : { name, inputs: [chain[s - 1]] })),
      output: { steps: [chain[SIZE.steps - 1]] },
    });
  }
  for (let e = 0; e < SIZE.experiments; e++) {
    const [a, b] = [modelName(2 * e), modelName(2 * e + 1)];
    object('Experiment', `experiment-${e}`, {
      default: a,
      candidates: [
        { name: a, weight: 50 },
        { name: b, weight: 50 },
      ],
    });
  }
  app.synth();
  return readdirSync(outdir).length;
}

/** Child process: one measured run, reported as JSON on stdout. */
function child(variant: Variant): void {
  const outdir = mkdtempSync(join(tmpdir(), `mlops-bench-${variant}-`));
  try {
    const start = performance.now();
    const cpu = process.cpuUsage();
    const files = variant === 'ours' ? ours(outdir) : baseline(outdir);
    const ms = performance.now() - start;
    const used = process.cpuUsage(cpu);
    const cpuMs = (used.user + used.system) / 1000;
    const maxRssMb = process.resourceUsage().maxRSS / 1024;
    process.stdout.write(JSON.stringify({ ms, cpuMs, maxRssMb, files } satisfies Measure));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function measure(variant: Variant): Measure {
  const run = spawnSync(process.execPath, ['--import', 'tsx', process.argv[1], '--child', variant], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 5 * 60_000,
  });
  if (run.status !== 0) throw new Error(`${variant} run failed (exit ${run.status})`);
  return JSON.parse(run.stdout) as Measure;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function main(): void {
  const runs: Record<Variant, Measure[]> = { ours: [], baseline: [] };
  // Alternate so both variants see the same background load.
  for (let i = 0; i < RUNS; i++) {
    runs.baseline.push(measure('baseline'));
    runs.ours.push(measure('ours'));
  }
  const row = (v: Variant) => {
    const ms = median(runs[v].map((r) => r.ms));
    const cpuMs = median(runs[v].map((r) => r.cpuMs));
    const mb = median(runs[v].map((r) => r.maxRssMb));
    return { ms, cpuMs, mb, files: runs[v][0].files };
  };
  const b = row('baseline');
  const o = row('ours');
  const timeRatio = o.ms / b.ms;
  const memRatio = o.mb / b.mb;
  const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
  const lines = [
    '## Synth',
    '',
    `${SIZE.models} models, ${SIZE.servers} servers, ${SIZE.pipelines} pipelines of ${SIZE.steps} steps and ` +
      `${SIZE.experiments} experiments; median of ${RUNS} runs, each in its own process. Time covers building ` +
      'the app, validating, rendering, serializing and writing every file; memory is the peak RSS of the process.',
    '',
    '| variant | wall time | CPU time | peak memory | files written |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| baseline: raw cdk8s ApiObjects, \`app.synth()\` (file per resource) | ${b.ms.toFixed(0)} ms | ${b.cpuMs.toFixed(0)} ms | ${b.mb.toFixed(0)} MB | ${b.files} |`,
    `| cdk8s-mlops constructs, full \`mlops synth\` pipeline | ${o.ms.toFixed(0)} ms | ${o.cpuMs.toFixed(0)} ms | ${o.mb.toFixed(0)} MB | ${o.files} |`,
    '',
    `- time vs baseline: ${timeRatio.toFixed(2)}× (target ≤ ${TARGET_RATIO}×: ${verdict(timeRatio <= TARGET_RATIO)})`,
    `- absolute time: ${(o.ms / 1000).toFixed(2)} s (target < ${TARGET_MS / 1000} s: ${verdict(o.ms < TARGET_MS)})`,
    `- CPU time vs baseline: ${(o.cpuMs / b.cpuMs).toFixed(2)}× (less sensitive to other load on the machine)`,
    `- peak memory vs baseline: ${memRatio.toFixed(2)}×`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

const at = process.argv.indexOf('--child');
if (at >= 0) child(process.argv[at + 1] as Variant);
else main();
