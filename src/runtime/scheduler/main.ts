import type { Logger } from 'pino';
import { usage } from '../../spec/flags.ts';
import { startAdminServer } from '../service/admin-server.ts';
import { commandLine, createLogger, stopOnSignal, usageError } from '../service/process.ts';
import { DirectorySource } from '../sources/directory.ts';
import type { DesiredStateSource } from '../sources/types.ts';
import { Autoscaler } from './autoscaler.ts';
import { startControlServer } from './grpc-server.ts';
import { SchedulerMetrics } from './metrics.ts';
import { Scheduler } from './scheduler.ts';
import { connectSource } from './source-binding.ts';

/** `mlops-runtime scheduler`: desired state in, placements to agents, routes to gateways. */
export async function main(argv: string[]): Promise<void> {
  const values = commandLine('scheduler', argv);
  if (!values) return;
  const log = createLogger('scheduler', values['log-level']);
  if (!values.manifests === !values.kubernetes) {
    usageError('scheduler: give exactly one of --manifests DIR or --kubernetes', usage('scheduler'));
  }
  if (values.kubernetes && !values.namespace) {
    usageError('scheduler: --kubernetes needs --namespace NS (or POD_NAMESPACE)', usage('scheduler'));
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
    host: values.listen,
    port: values.port,
    healthPort: values['health-port'],
    waitForServersMs: values['wait-for-servers-ms'],
    batchMs: values['batch-ms'],
    cooldownMs: values['scaling-cooldown-ms'],
    podsCheckMs: values['statefulset-check-ms'],
    modelAutoscaling: !values['no-model-autoscaling'],
    serverAutoscaling: !values['no-server-autoscaling'],
  });
  stopOnSignal(() => service.stop(), log);
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
  /** Where the scheduler's metrics go (default: a registry of its own). */
  metrics?: SchedulerMetrics;
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
  const metrics = opts.metrics ?? new SchedulerMetrics();
  const scheduler = new Scheduler(
    {
      log,
      status: {
        modelStatus: (ns, name, s) => void source.writeModelStatus(ns, name, s).catch(warn('model', name)),
        serverStatus: (ns, name, s) => void source.writeServerStatus(ns, name, s).catch(warn('server', name)),
        experimentStatus: (ns, name, s) =>
          void source.writeExperimentStatus(ns, name, s).catch(warn('experiment', name)),
        pipelineStatus: (ns, name, s) =>
          void source.writePipelineStatus(ns, name, s).catch(warn('pipeline', name)),
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
  const health = await startAdminServer({
    port: opts.healthPort,
    host: opts.host,
    live: () => ({ status: 200, body: 'ok' }),
    ready: () => (scheduler.ready ? { status: 200, body: 'ready' } : { status: 503, body: 'starting' }),
    metrics: metrics.registry,
    routes: {
      '/status': () => ({
        status: 200,
        body: JSON.stringify(scheduler.describe(), null, 2),
        type: 'application/json',
      }),
    },
  });
  const healthPort = health.port;
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
      await health.close();
      scheduler.close();
    },
  };
}
