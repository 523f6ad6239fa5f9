import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { parseFlags, usageError } from '../command-line.ts';
import { DirectorySource } from '../sources/directory.ts';
import type { DesiredStateSource } from '../sources/types.ts';
import { Autoscaler } from './autoscaler.ts';
import { startControlServer } from './grpc-server.ts';
import { SchedulerMetrics } from './metrics.ts';
import { Scheduler } from './scheduler.ts';
import { connectSource } from './source-binding.ts';

const USAGE = `usage: mlops-runtime scheduler [options]
  --manifests DIR            local mode: desired state from the YAML files in DIR (re-read on change)
  --kubernetes               cluster mode: watch the custom resources, write their status
  --namespace NS             namespace to watch in cluster mode (env POD_NAMESPACE); one scheduler
                             per namespace, as model names are unique only within one
  --port N                   gRPC port for agents and gateways (default 9004)
  --health-port N            /live, /ready, /status, /metrics (default 9999)
  --wait-for-servers-ms N    after a restart, wait this long for expected agents (default 10000)
  --batch-ms N               batch window for route and operation updates (default 10)
  --no-model-autoscaling     ignore agents' scale-up/scale-down triggers (on by default)
  --no-server-autoscaling    do not scale Servers to their models' needs (on by default)
                             (either way, replicas are kept within minReplicas/maxReplicas)
  --scaling-cooldown-ms N    minimum time between two scaling changes of one resource (default 60000)
  --statefulset-check-ms N   how often autoscaled Servers' StatefulSets are compared with their
                             Servers and set back when they differ (default 30000, 0: never)
  --log-level LEVEL          pino level (default info)`;

/** `mlops-runtime scheduler`: desired state in, placements to agents, routes to gateways. */
export async function main(argv: string[]): Promise<void> {
  const { values } = parseFlags(
    'scheduler',
    USAGE,
    {
      args: argv,
      options: {
        manifests: { type: 'string', default: process.env.MLOPS_MANIFESTS },
        kubernetes: { type: 'boolean', default: false },
        namespace: { type: 'string', default: process.env.POD_NAMESPACE },
        port: { type: 'string', default: process.env.MLOPS_SCHEDULER_PORT ?? '9004' },
        'health-port': { type: 'string', default: '9999' },
        'wait-for-servers-ms': { type: 'string', default: '10000' },
        'batch-ms': { type: 'string', default: '10' },
        'no-model-autoscaling': { type: 'boolean', default: false },
        'no-server-autoscaling': { type: 'boolean', default: false },
        'scaling-cooldown-ms': { type: 'string', default: '60000' },
        'statefulset-check-ms': { type: 'string', default: '30000' },
        'log-level': { type: 'string', default: process.env.LOG_LEVEL ?? 'info' },
        help: { type: 'boolean', default: false },
      },
    },
    ['port', 'health-port', 'wait-for-servers-ms', 'batch-ms', 'scaling-cooldown-ms', 'statefulset-check-ms'],
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const log = pino({ level: values['log-level'], base: { component: 'scheduler' } });
  if (!values.manifests === !values.kubernetes) {
    usageError('scheduler: give exactly one of --manifests DIR or --kubernetes', USAGE);
  }
  if (values.kubernetes && !values.namespace) {
    usageError('scheduler: --kubernetes needs --namespace NS (or POD_NAMESPACE)', USAGE);
  }
  let source: DesiredStateSource;
  if (values.kubernetes) {
    const { KubernetesSource } = await import('../sources/kubernetes.ts');
    source = KubernetesSource.fromDefaultConfig(log, values.namespace as string);
  } else {
    source = new DirectorySource(values.manifests as string, log);
  }
  const service = await startSchedulerService({
    source,
    log,
    port: Number(values.port),
    healthPort: Number(values['health-port']),
    waitForServersMs: Number(values['wait-for-servers-ms']),
    batchMs: Number(values['batch-ms']),
    cooldownMs: Number(values['scaling-cooldown-ms']),
    podsCheckMs: Number(values['statefulset-check-ms']),
    modelAutoscaling: !values['no-model-autoscaling'],
    serverAutoscaling: !values['no-server-autoscaling'],
  });
  const stop = async () => {
    await service.stop();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

export interface SchedulerServiceOptions {
  source: DesiredStateSource;
  log: Logger;
  /** gRPC port for agents and gateways (0 = any free port). */
  port: number;
  /** `/live`, `/ready`, `/status`, `/metrics` (0 = any free port). */
  healthPort: number;
  host?: string;
  waitForServersMs?: number;
  batchMs?: number;
  cooldownMs?: number;
  podsCheckMs?: number;
  modelAutoscaling?: boolean;
  serverAutoscaling?: boolean;
}

export interface SchedulerService {
  scheduler: Scheduler;
  port: number;
  healthPort: number;
  stop(): Promise<void>;
}

/** Runs a scheduler in this process (what `mlops-runtime scheduler` does, minus the command line). */
export async function startSchedulerService(opts: SchedulerServiceOptions): Promise<SchedulerService> {
  const { source, log } = opts;
  const warn = (kind: string, name: string) => (err: Error) =>
    log.warn({ [kind]: name, err: err.message }, 'status write failed');
  const metrics = new SchedulerMetrics();
  const scheduler = new Scheduler(
    {
      log,
      status: {
        modelStatus: (ns, name, s) => void source.writeModelStatus(ns, name, s).catch(warn('model', name)),
        serverStatus: (ns, name, s) => void source.writeServerStatus(ns, name, s).catch(warn('server', name)),
        experimentStatus: (ns, name, s) =>
          void source.writeExperimentStatus(ns, name, s).catch(warn('experiment', name)),
      },
      waitForServersMs: opts.waitForServersMs,
      batchMs: opts.batchMs ?? 10,
    },
    metrics,
  );
  const autoscaler = new Autoscaler({
    scheduler,
    source,
    log,
    cooldownMs: opts.cooldownMs ?? 60_000,
    podsCheckMs: opts.podsCheckMs,
    models: opts.modelAutoscaling ?? true,
    servers: opts.serverAutoscaling ?? true,
    metrics,
  });
  const control = await startControlServer({
    scheduler,
    port: opts.port,
    host: opts.host,
    log,
    onScalingTrigger: (msg) => autoscaler.onTrigger(msg),
  });
  const health = http.createServer((req, res) => {
    const path = req.url?.split('?')[0];
    if (path === '/live') return void res.writeHead(200).end('ok');
    if (path === '/ready')
      return void res.writeHead(scheduler.ready ? 200 : 503).end(scheduler.ready ? 'ready' : 'starting');
    if (path === '/metrics') {
      metrics.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(text);
      });
      return;
    }
    if (path === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify(scheduler.describe(), null, 2));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => health.listen(opts.healthPort, opts.host, r));
  const healthPort = (health.address() as AddressInfo).port;
  await connectSource(source, scheduler, autoscaler);
  autoscaler.start();
  log.info({ port: control.port, healthPort }, 'scheduler listening');
  return {
    scheduler,
    port: control.port,
    healthPort,
    async stop() {
      autoscaler.stop();
      await source.stop();
      await control.stop();
      health.closeAllConnections();
      await new Promise((r) => health.close(r));
      scheduler.close();
    },
  };
}
