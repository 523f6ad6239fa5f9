import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { loadManifests } from '../../review/manifests.ts';
import { KafkaSecurityError, verifyKafkaSecurity } from '../../runtime/bus/kafka-security.ts';
import { CONTROL_SECRET_ENV } from '../../spec/control-auth.ts';
import { componentArgv } from '../../spec/flags.ts';
import type { KafkaSecuritySettings } from '../../spec/kafka-security.ts';
import { PORTS } from '../../spec/ports.ts';
import { DEFAULT_NAMING } from '../../spec/topics.ts';
import type { KubeObject } from '../../spec/types.ts';
import { CliError } from '../errors.ts';
import {
  addKafkaSecurityOptions,
  kafkaSecurityArgv,
  kafkaSecurityFromOptions,
} from '../kafka-security-options.ts';
import { DEFAULT_GATEWAY } from '../local-gateway.ts';
import { resolveModelsDir, withLocalModels } from './local-models.ts';
import { resolveManifestDir } from './manifest-dir.ts';
import { ManifestView } from './manifest-view.ts';
import { type MetricsEndpoint, metricsLines } from './metrics-urls.ts';
import { findMlserver, MLSERVER_INSTALL_HINT } from './mlserver-bin.ts';
import {
  agentsConnected,
  type ModelState,
  modelStates,
  pipelineStates,
  type SchedulerStatus,
  settled,
  stateChanges,
} from './model-states.ts';
import { freePort, freePorts } from './ports.ts';
import { unrunnableModels } from './runnable.ts';
import { type Child, type Death, Supervisor } from './supervisor.ts';
import { type DevServer, type DevTopology, devTopology } from './topology.ts';
import { type DevTracing, devTracing } from './tracing.ts';
import { sampleRequest, tryCommands } from './try-it.ts';

interface DevOptions {
  app?: string;
  namespace?: string;
  kafka?: string;
  topicPrefix: string;
  port?: string;
  workDir?: string;
  logLevel: string;
  settleMs: string;
  listen: string;
  [kafkaSecurityOption: string]: unknown;
  otlp?: string;
  traceRatio?: string;
  models?: string;
}

const LOOPBACK = '127.0.0.1';
const RUNTIME_BIN = fileURLToPath(new URL('../../../bin/mlops-runtime.js', import.meta.url));
const MLSERVER_STARTUP_MS = 120_000;

export function register(program: Command): void {
  const command = program
    .command('dev')
    .description(
      'run the runtime on this machine against dist/<app> (or DIR): scheduler, an agent and MLServer per server replica, gateway and dataflow',
    )
    .argument('[dir]', 'folder of synthesized YAML (default: dist/<app>)')
    .option('--app <name>', 'the app folder under dist/ (default: the only one)')
    .option('-n, --namespace <ns>', 'namespace to run, when the manifests declare several')
    .option(
      '--kafka <brokers>',
      'run pipelines on this Kafka (default: $MLOPS_KAFKA_BROKERS, else an in-process bus)',
    )
    .option('--topic-prefix <prefix>', 'Kafka topic prefix', DEFAULT_NAMING.prefix)
    .option('--port <n>', `gateway REST port (default ${PORTS.gatewayHttp}, or a free one when taken)`)
    .option(
      '--work-dir <dir>',
      'keep model caches and repositories here (default: a temporary folder, removed on exit)',
    )
    .option(
      '--listen <addr>',
      'address every component listens on; 0.0.0.0 opens them to the network',
      LOOPBACK,
    )
    .option(
      '--models <dir>',
      'local copies of object-store artifacts: gs://BUCKET/PATH (or s3://, az://) is read from DIR/BUCKET/PATH (default: ./models when it exists)',
    )
    .option('--log-level <level>', 'log level of the components', 'info')
    .option(
      '--otlp <url>',
      'send OpenTelemetry traces of every hop to this OTLP/HTTP collector, e.g. http://127.0.0.1:4318 (default: $OTEL_EXPORTER_OTLP_ENDPOINT, else no tracing)',
    )
    .option(
      '--trace-ratio <r>',
      'share of requests traced, 0 to 1 (default: $OTEL_TRACES_SAMPLER_ARG, else 1)',
    )
    .option('--settle-ms <ms>', 'how long to wait for models before printing the try-it commands', '120000');
  addKafkaSecurityOptions(command)
    .addHelpText(
      'after',
      `
Examples:
  npx mlops synth && npx mlops dev
  npx mlops dev dist/prod --namespace prod --kafka 127.0.0.1:9092
  npx mlops dev --app quickstart --port 8080`,
    )
    .action(async (dir: string | undefined, opts: DevOptions) => {
      process.exitCode = await runDev(dir, opts);
    });
}

/** Everything one `mlops dev` run allocates and prints. */
class DevRun {
  readonly supervisor: Supervisor;
  private stopped?: Promise<number>;
  private resolveDone!: (code: number) => void;
  readonly done = new Promise<number>((r) => {
    this.resolveDone = r;
  });
  private readonly cleanups: (() => void)[] = [];

  constructor(width: number) {
    this.supervisor = new Supervisor(
      (line) => process.stdout.write(`${line}\n`),
      (child, death) => this.died(child, death),
      width,
    );
  }

  say(text: string): void {
    process.stdout.write(`${text}\n`);
  }

  /** Runs once every component has stopped. */
  onStop(fn: () => void): void {
    this.cleanups.push(fn);
  }

  get stopping(): boolean {
    return this.stopped !== undefined;
  }

  /** A component died: say so with its last lines; the supervisor starts it again. */
  private died(child: Child, { code, restartInMs }: Death): void {
    const tail = child.tail();
    process.stderr.write(
      `mlops dev: ${child.name} exited (${code}); starting it again in ${(restartInMs / 1000).toFixed(1)} s; its last lines:\n${tail.map((l) => `  ${l}`).join('\n') || '  (no output)'}\n`,
    );
  }

  /** `mlops dev` ends with the process that started it (npx, a shell, an IDE). */
  followParent(): void {
    const parent = process.ppid;
    const timer = setInterval(() => {
      if (process.ppid === parent) return;
      process.stderr.write('mlops dev: the process that started it is gone; stopping everything\n');
      void this.stop(1);
    }, 1000);
    timer.unref();
    this.onStop(() => clearInterval(timer));
  }

  stop(code: number): Promise<number> {
    this.stopped ??= (async () => {
      await this.supervisor.stopAll();
      // After the components: they may still use the work folder while stopping.
      for (const fn of this.cleanups) fn();
      this.resolveDone(code);
      return code;
    })();
    return this.stopped;
  }
}

export async function runDev(dirArg: string | undefined, opts: DevOptions): Promise<number> {
  const cwd = process.cwd();
  let dir: string;
  let objects: KubeObject[];
  let topo: DevTopology;
  let modelsDir: string | undefined;
  try {
    dir = resolveManifestDir(dirArg, opts.app, cwd);
    modelsDir = resolveModelsDir(opts.models, cwd);
    objects = withLocalModels(
      loadManifests([dir]).map((m) => m.object),
      modelsDir,
    );
    topo = devTopology(objects, opts.namespace, relative(cwd, dir) || '.');
  } catch (err) {
    // Bad folders, manifests and namespaces are usage errors, reported without a stack trace.
    throw new CliError(`dev: ${(err as Error).message}`, 2, { cause: err });
  }
  const gatewayPort = opts.port === undefined ? undefined : Number(opts.port);
  if (
    gatewayPort !== undefined &&
    !(Number.isInteger(gatewayPort) && gatewayPort > 0 && gatewayPort < 65536)
  ) {
    throw new CliError(
      `dev: --port "${opts.port}" is not a TCP port; use e.g. --port ${PORTS.gatewayHttp}`,
      2,
    );
  }
  const kafka = opts.kafka ?? process.env.MLOPS_KAFKA_BROKERS;
  const kafkaSecurity = kafka ? await checkKafka(kafka, opts) : undefined;
  const tracing = devTracing(opts);
  let mlserver: ReturnType<typeof findMlserver>;
  try {
    mlserver = findMlserver();
  } catch (err) {
    throw new CliError(`dev: ${(err as Error).message}`, 2);
  }

  const served = topo.servers.filter((s) => s.mlserver);
  const names = [
    'scheduler',
    'gateway',
    'dataflow',
    ...served.flatMap((s) =>
      range(s.replicas).flatMap((i) => [`agent ${s.name}-${i}`, `mlserver ${s.name}-${i}`]),
    ),
  ];
  const run = new DevRun(Math.max(...names.map((n) => n.length)));
  run.followParent();
  const where = relative(cwd, dir) || '.';
  run.say(`mlops dev: ${where} (namespace ${topo.namespace})`);
  for (const w of topo.warnings) run.say(`warning: ${w}`);
  const unrunnable = unrunnableModels(topo, modelsDir, cwd);
  for (const [model, why] of unrunnable) run.say(`warning: mlops dev cannot run model ${model}: ${why}`);
  if (served.length > 0 && !mlserver) {
    run.say(
      `warning: MLServer not found, so no model can be served; ${MLSERVER_INSTALL_HINT}. Running the rest without it.`,
    );
  }

  const ownWorkDir = opts.workDir === undefined;
  const workDir = opts.workDir ? resolve(opts.workDir) : mkdtempSync(join(tmpdir(), 'mlops-dev-'));
  mkdirSync(workDir, { recursive: true });
  if (ownWorkDir) run.onStop(() => rmSync(workDir, { recursive: true, force: true }));
  const view = new ManifestView(
    dir,
    topo.namespace,
    workDir,
    (m) => run.say(`warning: ${m}`),
    (o) => withLocalModels(o, modelsDir),
  );
  view.start(objects);
  run.onStop(() => view.stop());

  let interrupted = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted += 1;
    if (interrupted > 1) {
      run.supervisor.killAll();
      process.exit(130);
    }
    run.say(`\nmlops dev: ${signal}, stopping every component…`);
    void run.stop(0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  run.onStop(() => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });

  try {
    await start(run, topo, {
      opts,
      kafka,
      kafkaSecurity,
      mlserver,
      workDir,
      viewDir: view.dir,
      gatewayPort,
      tracing,
      unrunnable,
      modelsDir,
    });
  } catch (err) {
    if (!run.stopping) {
      process.stderr.write(`mlops dev: ${(err as Error).message}\n`);
      await run.stop(1);
    }
  }
  return run.done;
}

/**
 * The Kafka settings from flags and env, checked against the brokers before anything starts: a
 * wrong password or an untrusted certificate ends `mlops dev` with the reason (exit 1) rather
 * than a dataflow restarting over and over.
 */
async function checkKafka(brokers: string, opts: DevOptions): Promise<KafkaSecuritySettings> {
  const settings = kafkaSecurityFromOptions('dev', opts, process.env);
  try {
    await verifyKafkaSecurity(brokers.split(',').filter(Boolean), settings);
  } catch (err) {
    if (err instanceof KafkaSecurityError) throw new CliError(`dev: ${err.message}`, 1);
    throw err;
  }
  return settings;
}

/** The security flags (never the password) of the inspect command `mlops dev` prints. */
function securityFlags(s: KafkaSecuritySettings | undefined): string {
  return Object.entries(kafkaSecurityArgv(s ?? {}))
    .filter(([, v]) => v !== undefined)
    .map(([flag, v]) => (v === true ? ` --${flag}` : ` --${flag} ${v}`))
    .join('');
}

interface StartContext {
  opts: DevOptions;
  kafka?: string;
  kafkaSecurity?: KafkaSecuritySettings;
  mlserver?: { path: string; from: string };
  workDir: string;
  viewDir: string;
  gatewayPort?: number;
  tracing: DevTracing;
  /** Models mlops dev cannot serve, with the reason. */
  unrunnable: Map<string, string>;
  /** The folder of local artifact copies. */
  modelsDir?: string;
}

/** Where this process reaches a component listening on `listen`. */
function reachableAt(listen: string): string {
  return listen === '0.0.0.0' || listen === '::' ? LOOPBACK : listen;
}

async function start(run: DevRun, topo: DevTopology, ctx: StartContext): Promise<void> {
  const { opts } = ctx;
  const host = reachableAt(opts.listen);
  const logLevel = opts.logLevel;
  // One secret per run: the components prove to each other that they belong to it.
  const secret = { [CONTROL_SECRET_ENV]: randomBytes(32).toString('base64url') };
  const runtime = (name: string, argv: string[], env?: NodeJS.ProcessEnv) =>
    run.supervisor.start({
      name,
      command: process.execPath,
      args: [RUNTIME_BIN, ...argv, ...ctx.tracing.argv],
      env: { ...env, ...secret },
    });
  const [schedPort, healthPort, gwGrpc, pgHttp, pgGrpc] = await freePorts(5);
  const gwHttp = ctx.gatewayPort ?? (await freePort(PORTS.gatewayHttp));

  const scheduler = runtime(
    'scheduler',
    componentArgv('scheduler', {
      manifests: ctx.viewDir,
      listen: opts.listen,
      port: schedPort,
      'health-port': healthPort,
      // Each agent is a process started here: a Server scaled at run time would get no new one.
      'no-server-autoscaling': true,
      'log-level': logLevel,
    }),
  );
  const health = `http://${host}:${healthPort}`;
  await waitFor(run, scheduler, 'the scheduler', 30_000, async () => (await fetch(`${health}/live`)).ok);

  const pipelines = topo.pipelines.length > 0;
  const gateway = runtime(
    'gateway',
    componentArgv('gateway', {
      scheduler: `${host}:${schedPort}`,
      listen: opts.listen,
      'http-port': gwHttp,
      'grpc-port': gwGrpc,
      'pipeline-gateway': pipelines ? [`${host}:${pgHttp}:${pgGrpc}`] : undefined,
      'log-level': logLevel,
    }),
  );
  const dataflowArgv = componentArgv('dataflow', {
    manifests: ctx.viewDir,
    namespace: topo.namespace,
    'topic-prefix': opts.topicPrefix,
    inference: `${host}:${gwGrpc}`,
    host: opts.listen,
    'http-port': pgHttp,
    'grpc-port': pgGrpc,
    ...(ctx.kafka
      ? { brokers: [ctx.kafka], ...kafkaSecurityArgv(ctx.kafkaSecurity ?? {}) }
      : { bus: 'memory' }),
    'log-level': logLevel,
  });
  if (pipelines) runtime('dataflow', dataflowArgv);

  // Promise.all at once: a replica failing while the gateway starts is handled, not unhandled.
  const replicas = Promise.all(
    ctx.mlserver
      ? topo.servers
          .filter((s) => s.mlserver)
          .flatMap((s) =>
            range(s.replicas).map((i) => startReplica(run, s, i, ctx, schedPort, topo.namespace, runtime)),
          )
      : [],
  );
  const gatewayUrl = `http://${host}:${gwHttp}`;
  await waitFor(
    run,
    gateway,
    'the gateway',
    30_000,
    async () => (await fetch(`${gatewayUrl}/v2/health/ready`)).ok,
  );
  const replicaMetrics = (await replicas).flat();

  const lines = [
    '',
    'mlops dev is running:',
    `  gateway    ${gatewayUrl} (OIP REST)   ${host}:${gwGrpc} (OIP gRPC)`,
    `  scheduler  ${host}:${schedPort} (gRPC)   ${health}/status`,
  ];
  if (pipelines) {
    lines.push(
      `  pipelines  ${topo.pipelines.map((p) => p.name).join(', ')} on ${ctx.kafka ? `Kafka ${ctx.kafka}` : 'an in-process bus'}`,
    );
    if (ctx.kafka) {
      lines.push(
        `  inspect    npx mlops inspect ${topo.pipelines[0].name} --kafka ${ctx.kafka} --namespace ${topo.namespace}${securityFlags(ctx.kafkaSecurity)}`,
      );
    } else {
      lines.push('             (mlops inspect needs Kafka: start with --kafka BROKERS to read the topics)');
    }
  }
  lines.push(
    ...metricsLines([
      { component: 'scheduler', url: `${health}/metrics` },
      { component: 'gateway', url: `${gatewayUrl}/metrics` },
      ...(pipelines ? [{ component: 'dataflow', url: `http://${host}:${pgHttp}/metrics` }] : []),
      ...replicaMetrics,
    ]),
  );
  if (topo.experiments.length > 0) {
    lines.push(
      `  experiments ${topo.experiments.join(', ')} (route key NAME.experiment, or the default model's name)`,
    );
  }
  for (const s of topo.servers) {
    const how = !s.mlserver
      ? 'not started'
      : ctx.mlserver
        ? `MLServer from ${ctx.mlserver.from}`
        : 'MLServer missing';
    lines.push(`  server     ${s.name} ×${s.replicas} (${how})`);
  }
  lines.push(ctx.tracing.line);
  if (ctx.modelsDir) {
    const base = pathToFileURL(ctx.modelsDir).href;
    const copies = topo.models.filter((m) => m.storageUri.startsWith(`${base}/`)).map((m) => m.name);
    const where = relative(process.cwd(), ctx.modelsDir) || '.';
    if (copies.length > 0) lines.push(`  models     ${copies.join(', ')} from local copies in ${where}/`);
  }
  if (gatewayUrl !== DEFAULT_GATEWAY) lines.push(`  export MLOPS_GATEWAY=${gatewayUrl}`);
  lines.push('Press Ctrl-C to stop.', '');
  run.say(lines.join('\n'));

  const agentsStarted = new Map(
    ctx.mlserver ? topo.servers.filter((s) => s.mlserver).map((s) => [s.name, s.replicas]) : [],
  );
  await watchModels(run, topo, { ...ctx, agentsStarted }, health, gatewayUrl, Number(opts.settleMs));
}

/** MLServer for one replica, then its agent once MLServer answers. */
async function startReplica(
  run: DevRun,
  server: DevServer,
  idx: number,
  ctx: StartContext,
  schedPort: number,
  namespace: string,
  runtime: (name: string, argv: string[], env?: NodeJS.ProcessEnv) => Child,
): Promise<MetricsEndpoint[]> {
  const host = reachableAt(ctx.opts.listen);
  const id = `${server.name}-${idx}`;
  const dir = join(ctx.workDir, 'servers', id);
  const modelsDir = join(dir, 'models');
  mkdirSync(modelsDir, { recursive: true });
  const [http, grpc, metrics, agentHttp, agentGrpc, agentAdmin] = await freePorts(6);
  const mlserver = run.supervisor.start({
    name: `mlserver ${id}`,
    command: (ctx.mlserver as { path: string }).path,
    args: ['start', modelsDir],
    cwd: dir,
    env: {
      MLSERVER_HOST: ctx.opts.listen,
      MLSERVER_HTTP_PORT: String(http),
      MLSERVER_GRPC_PORT: String(grpc),
      MLSERVER_METRICS_PORT: String(metrics),
      MLSERVER_MODEL_REPOSITORY_ROOT: modelsDir,
      // The agent decides what is loaded, through the repository API.
      MLSERVER_LOAD_MODELS_AT_STARTUP: 'false',
      // Inference inside the server process: no worker pool per replica on a laptop.
      MLSERVER_PARALLEL_WORKERS: '0',
      PYTHONUNBUFFERED: '1',
    },
  });
  const url = `http://${host}:${http}`;
  await waitFor(
    run,
    mlserver,
    `MLServer ${id}`,
    MLSERVER_STARTUP_MS,
    async () => (await fetch(`${url}/v2/health/ready`)).ok,
  );
  runtime(
    `agent ${id}`,
    componentArgv('agent', {
      server: server.name,
      replica: idx,
      scheduler: `${host}:${schedPort}`,
      'inference-url': url,
      'inference-grpc': `${host}:${grpc}`,
      'models-dir': modelsDir,
      'cache-dir': join(dir, 'cache'),
      memory: server.memory,
      'over-commit': server.overCommit,
      capabilities: server.capabilities,
      host,
      listen: ctx.opts.listen,
      'http-port': agentHttp,
      'grpc-port': agentGrpc,
      'admin-port': agentAdmin,
      'log-level': ctx.opts.logLevel,
    }),
    { POD_NAMESPACE: namespace },
  );
  return [
    { component: `agent/${id}`, url: `http://${host}:${agentAdmin}/metrics` },
    { component: `mlserver/${id}`, url: `http://${host}:${metrics}/metrics` },
  ];
}

/** Reports model and pipeline state changes until stopped; prints the try-it commands once
 * models settle. */
async function watchModels(
  run: DevRun,
  topo: DevTopology,
  { unrunnable, agentsStarted }: { unrunnable: Map<string, string>; agentsStarted: Map<string, number> },
  health: string,
  gatewayUrl: string,
  settleMs: number,
): Promise<void> {
  // Models it cannot run are reported, but neither waited for nor offered to try.
  const declared = topo.models.map((m) => m.name).filter((m) => !unrunnable.has(m));
  const notes = new Map([...unrunnable].map(([m, why]) => [m, `mlops dev cannot run it: ${why}`]));
  let states = new Map<string, ModelState>();
  let pipelines = new Map<string, ModelState>();
  let printed = declared.length === 0;
  let connected = false;
  const deadline = Date.now() + settleMs;
  while (!run.stopping) {
    try {
      const status = (await (await fetch(`${health}/status`)).json()) as SchedulerStatus;
      connected = agentsConnected(status, agentsStarted);
      const now = modelStates(status);
      for (const line of stateChanges(states, now, 'model', notes)) run.say(`mlops dev: ${line}`);
      // The reason once; later state lines of the same model point back to it.
      for (const m of now.keys()) if (unrunnable.has(m)) notes.set(m, 'mlops dev cannot run it (see above)');
      states = now;
      const nowPipelines = pipelineStates(status);
      for (const line of stateChanges(pipelines, nowPipelines, 'pipeline')) run.say(`mlops dev: ${line}`);
      pipelines = nowPipelines;
    } catch {
      // the scheduler is restarting or stopping; its death is reported by the supervisor
    }
    if (!printed && ((connected && settled(declared, states)) || Date.now() > deadline)) {
      printed = true;
      await printTryIt(run, declared, states, gatewayUrl);
    }
    await Promise.race([sleep(1000), run.done]);
  }
}

async function printTryIt(
  run: DevRun,
  declared: string[],
  states: Map<string, ModelState>,
  gatewayUrl: string,
): Promise<void> {
  const available = declared.filter((m) => states.get(m)?.state === 'ModelAvailable');
  const model = available[0] ?? declared[0];
  let metadata: unknown;
  try {
    const res = await fetch(`${gatewayUrl}/v2/models/${model}`);
    if (res.ok) metadata = await res.json();
  } catch {
    // no metadata: the sample request falls back to iris-like features
  }
  const lines = available.length
    ? [`Try it (model ${model}; adjust the inputs to your model):`]
    : [
        `No model is available yet (${declared.map((m) => `${m}: ${states.get(m)?.state ?? 'unknown'}`).join(', ')}); once it is:`,
      ];
  for (const cmd of tryCommands(gatewayUrl, model, sampleRequest(metadata))) lines.push(`  ${cmd}`);
  run.say(`\n${lines.join('\n')}\n`);
}

/** Starts in a row that mean a component cannot start at all (a bad flag, a missing file). */
const STARTUP_RESTARTS = 3;

/** Polls `ready` until true; fails early when the child keeps dying or the run stops. */
async function waitFor(
  run: DevRun,
  child: Child,
  what: string,
  timeoutMs: number,
  ready: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (run.stopping) throw new Error(`stopped while waiting for ${what}`);
    if (child.restarts >= STARTUP_RESTARTS)
      throw new Error(
        `${what} keeps exiting during startup (started ${child.restarts + 1} times); its last lines:\n${child.tail().join('\n')}`,
      );
    try {
      if (await ready()) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(
    `${what} was not ready within ${Math.round(timeoutMs / 1000)} s; its last lines:\n${child.tail().join('\n')}`,
  );
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
