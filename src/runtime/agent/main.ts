import { hostname } from 'node:os';
import { CONTROL_SECRET_ENV } from '../../spec/control-auth.ts';
import { usage } from '../../spec/flags.ts';
import { controlCredential } from '../service/identity.ts';
import { commandLine, createLogger, stopOnSignal, usageError } from '../service/process.ts';
import { quantityBytes } from '../sources/quantity.ts';
import { tracingFromFlags } from '../telemetry/from-flags.ts';
import { Agent } from './agent.ts';
import { AgentMetrics } from './metrics.ts';

/** `mlops-runtime agent`: the sidecar of a server pod. */
export async function main(argv: string[]): Promise<void> {
  const values = commandLine('agent', argv);
  if (!values) return;
  const env = process.env;
  const problems: string[] = [];
  const replicaFlag = values.replica === undefined ? undefined : String(values.replica);
  const identity = replicaIdentity(values.server, replicaFlag, env.POD_NAME);
  if (typeof identity === 'string') problems.push(identity);
  if (!values.scheduler) problems.push('--scheduler HOST:PORT (or MLOPS_SCHEDULER_ADDRESS) is required');
  let memoryBytes = 0;
  try {
    memoryBytes = quantityBytes(values.memory);
    if (memoryBytes === 0) problems.push('--memory (or MEMORY_REQUEST) is required, e.g. 2Gi');
  } catch (err) {
    problems.push(`--memory: ${(err as Error).message}`);
  }
  if (problems.length > 0) usageError(`agent: ${problems.join('; ')}`, usage('agent'));
  const { server, replica } = identity as { server: string; replica: number };
  const log = createLogger('agent', values['log-level'], { server, replica });
  const tracing = await tracingFromFlags('agent', values, log);
  const period = values['scaling-period-ms'];
  const agent = new Agent({
    serverName: server,
    replicaIdx: replica,
    namespace: env.POD_NAMESPACE,
    schedulerAddress: values.scheduler as string,
    inferenceUrl: values['inference-url'],
    inferenceGrpc: values['inference-grpc'] || undefined,
    grpcPort: values['grpc-port'],
    modelsDir: values['models-dir'],
    cacheDir: values['cache-dir'],
    memoryBytes,
    overCommitPercentage: values['over-commit'],
    capabilities: values.capabilities,
    advertiseHost: values.host ?? hostname(),
    listen: values.listen,
    httpPort: values['http-port'],
    adminPort: values['admin-port'],
    minResidencyMs: values['min-residency-ms'],
    unloadGraceMs: values['unload-grace-ms'],
    scaling:
      period > 0
        ? {
            lagThreshold: values['lag-threshold'],
            inactiveSeconds: values['inactive-seconds'],
            periodMs: period,
          }
        : undefined,
    artifacts: {
      rclone: values.rclone,
      storageSecrets: values['storage-secrets'],
      maxConcurrent: values['download-concurrency'],
      gateway: values.gateway || undefined,
    },
    metrics: new AgentMetrics({ server, replica }),
    credential: controlCredential(values['scheduler-token-file']),
    controlSecret: env[CONTROL_SECRET_ENV] || undefined,
    log,
  });
  await agent.start();
  stopOnSignal(async () => {
    await agent.stop();
    await tracing.shutdown();
  }, log);
}

/** Server name and replica index from flags, or from a StatefulSet pod name `<server>-<idx>`. */
export function replicaIdentity(
  server: string | undefined,
  replica: string | undefined,
  podName: string | undefined,
): { server: string; replica: number } | string {
  const fromPod = podName ? /^(.+)-(\d+)$/.exec(podName) : null;
  const name = server ?? fromPod?.[1];
  const idx = replica ?? fromPod?.[2];
  if (!name) return '--server NAME (or SELDON_SERVER_NAME, or POD_NAME "<server>-<idx>") is required';
  if (idx === undefined || !/^\d+$/.test(idx)) {
    return '--replica N is required (or POD_NAME "<server>-<idx>" as a StatefulSet sets it)';
  }
  return { server: name, replica: Number(idx) };
}
