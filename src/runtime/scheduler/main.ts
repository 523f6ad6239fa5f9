import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { CONTROL_SECRET_ENV } from '../../spec/control-auth.ts';
import { type FlagValues, usage } from '../../spec/flags.ts';
import { startAdminServer } from '../service/admin-server.ts';
import { type Authenticator, sharedSecretAuthenticator } from '../service/identity.ts';
import { commandLine, createLogger, stopOnSignal, usageError } from '../service/process.ts';
import { DirectorySource } from '../sources/directory.ts';
import type { DesiredStateSource } from '../sources/types.ts';
import { tracingFromFlags } from '../telemetry/from-flags.ts';
import { Autoscaler } from './autoscaler.ts';
import { ControlGuard } from './control-guard.ts';
import { startControlServer } from './grpc-server.ts';
import { LeaderElector, timingsProblem } from './leader-election.ts';
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
  if (values['leader-lease'] && !values.kubernetes) {
    usageError(
      'scheduler: --leader-lease needs --kubernetes (the Lease lives on the API server)',
      usage('scheduler'),
    );
  }
  const tracing = await tracingFromFlags('scheduler', values, log);
  let source: DesiredStateSource;
  let elector: LeaderElector | undefined;
  let authenticator: Authenticator | undefined;
  if (values.kubernetes) {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const { KubernetesSource } = await import('../sources/kubernetes.ts');
    const { kubernetesTokenReviewer, TokenReviewAuthenticator } = await import('./token-review.ts');
    const kc = new KubeConfig();
    kc.loadFromDefault();
    source = new KubernetesSource(kc, log, values.namespace as string);
    // In a cluster the control port is never open: every caller shows a token bound to its pod.
    authenticator = new TokenReviewAuthenticator(await kubernetesTokenReviewer(kc), {
      audience: values['token-audience'],
    });
    if (values['leader-lease']) elector = await electorOf(kc, values, log);
  } else {
    source = new DirectorySource(values.manifests as string, log);
    const secret = process.env[CONTROL_SECRET_ENV];
    if (secret) authenticator = sharedSecretAuthenticator(secret);
    else log.warn(`control port unauthenticated: local mode without ${CONTROL_SECRET_ENV}`);
  }
  const service = await startSchedulerService({
    source,
    log,
    host: values.listen,
    leadership: elector,
    authenticator,
    namespace: values.namespace,
    port: values.port,
    healthPort: values['health-port'],
    waitForServersMs: values['wait-for-servers-ms'],
    batchMs: values['batch-ms'],
    cooldownMs: values['scaling-cooldown-ms'],
    podsCheckMs: values['statefulset-check-ms'],
    modelAutoscaling: !values['no-model-autoscaling'],
    serverAutoscaling: !values['no-server-autoscaling'],
  });
  stopOnSignal(async () => {
    await service.stop();
    await elector?.stop();
    await tracing.shutdown();
  }, log);
}

/** The Lease campaign of one replica; losing the lease ends the process (a fresh start follows). */
async function electorOf(
  kc: import('@kubernetes/client-node').KubeConfig,
  values: FlagValues<'scheduler'>,
  log: Logger,
): Promise<LeaderElector> {
  const timings = {
    leaseSeconds: values['lease-seconds'],
    renewDeadlineMs: values['renew-deadline-ms'],
    retryPeriodMs: values['retry-period-ms'],
  };
  const problem = timingsProblem(timings);
  if (problem) usageError(`scheduler: --lease-seconds/--renew-deadline-ms/--retry-period-ms: ${problem}`);
  const { kubernetesLeaseApi } = await import('./lease-api.ts');
  const identity = values.identity ?? hostname();
  const elector = new LeaderElector({
    ...timings,
    api: kubernetesLeaseApi(kc, values.namespace as string, values['leader-lease'] as string),
    identity,
    log: log.child({ identity }),
  });
  // In-memory state cannot be handed over safely: exit, and let the restart follow the new leader.
  elector.onLost(() => process.exit(1));
  elector.start();
  return elector;
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
  /** With several replicas: nothing is read, placed, written or served until this one leads. */
  leadership?: Leadership;
  /** Checks the credential of every control call; without it the control port is open. */
  authenticator?: Authenticator;
  /** The namespace served: pods of other namespaces are refused. */
  namespace?: string;
}

export interface Leadership {
  readonly isLeader: boolean;
  readonly holder: string;
  whenLeading(): Promise<void>;
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
  const { leadership } = opts;
  const standby = () => leadership !== undefined && !leadership.isLeader;
  const health = await startAdminServer({
    port: opts.healthPort,
    host: opts.host,
    live: () => ({ status: 200, body: 'ok' }),
    // A standby is ready: ready to take over. Clients find the leader by its open gRPC port.
    ready: () =>
      standby()
        ? { status: 200, body: 'standby' }
        : scheduler.ready
          ? { status: 200, body: 'ready' }
          : { status: 503, body: 'starting' },
    metrics: metrics.registry,
    routes: {
      '/status': () => ({
        status: 200,
        body: JSON.stringify(
          standby() ? { role: 'standby', leader: leadership?.holder } : scheduler.describe(),
          null,
          2,
        ),
        type: 'application/json',
      }),
    },
  });
  const healthPort = health.port;
  let control: { port: number; stop(): Promise<void> } | undefined;
  let stopped = false;
  const lead = async () => {
    if (stopped) return;
    control = await startControlServer({
      scheduler,
      port: opts.port,
      host: opts.host,
      log,
      onScalingTrigger: (msg) => autoscaler.onTrigger(msg),
      guard: opts.authenticator
        ? new ControlGuard({
            authenticator: opts.authenticator,
            namespace: opts.namespace,
            replicas: scheduler,
            log,
          })
        : undefined,
    });
    await connectSource(source, scheduler, autoscaler);
    autoscaler.start();
    log.info({ port: control.port, healthPort }, 'scheduler listening');
  };
  if (leadership) {
    log.info({ healthPort }, 'standing by for the lease');
    // Holding the lease without serving would leave every client stranded: end the process instead.
    void leadership
      .whenLeading()
      .then(lead)
      .catch((err: Error) => {
        log.fatal({ err: err.message }, 'cannot lead');
        process.exit(1);
      });
  } else await lead();
  return {
    scheduler,
    port: control?.port ?? opts.port,
    healthPort,
    async stop() {
      stopped = true;
      autoscaler.stop();
      await source.stop();
      await control?.stop();
      await health.close();
      scheduler.close();
    },
  };
}
