import { hostname } from 'node:os';
import pino from 'pino';
import { parseFlags, usageError } from '../command-line.ts';
import { quantityBytes } from '../sources/quantity.ts';
import { Agent } from './agent.ts';

const USAGE = `usage: mlops-runtime agent [options]   (each option also reads the env var shown)
  --server NAME               Server this pod belongs to            SELDON_SERVER_NAME
  --replica N                 replica index (default: from POD_NAME "<server>-<N>")
  --scheduler HOST:PORT       scheduler gRPC address                 MLOPS_SCHEDULER_ADDRESS
  --inference-url URL         inference server REST URL (default http://127.0.0.1:9000)
  --inference-grpc HOST:PORT  inference server gRPC address (default 127.0.0.1:9500; "" = no gRPC proxy)
  --models-dir DIR            the inference server's model repository (default /mnt/agent/models)
  --cache-dir DIR             artifact download cache (default /mnt/agent/cache)
  --memory QTY                inference server memory, e.g. 2Gi       MEMORY_REQUEST
  --over-commit PCT           registered models may exceed memory by PCT % (default 10)
                                                                     SELDON_OVERCOMMIT_PERCENTAGE
  --capabilities a,b          what the server can run                SELDON_SERVER_CAPABILITIES
  --host HOST                 host gateways use for this pod (default: POD_NAME or hostname)
  --http-port N               REST inference proxy port (default 9001)
  --grpc-port N               gRPC inference proxy port (default 9501)
  --admin-port N              /live /ready /terminate /metrics (default 9008)
  --min-residency-ms N        anti-thrash: keep a loaded model at least this long (default 1000)
  --unload-grace-ms N         wait before unloading so in-flight requests finish (default 2000)
  --lag-threshold N           requests in flight that ask for a scale-up (default 30)
                                                                     SELDON_MODEL_INFERENCE_LAG_THRESHOLD
  --inactive-seconds N        idle time that asks for a scale-down (default 600)
                                                                     SELDON_MODEL_INACTIVE_SECONDS_THRESHOLD
  --scaling-period-ms N       how often triggers are checked (default 20000; 0 = off)
  --log-level LEVEL`;

const env = process.env;

/** \`mlops-runtime agent\`: the sidecar of a server pod. */
export async function main(argv: string[]): Promise<void> {
  const { values } = parseFlags(
    'agent',
    USAGE,
    {
      args: argv,
      options: {
        server: { type: 'string', default: env.SELDON_SERVER_NAME },
        replica: { type: 'string' },
        scheduler: { type: 'string', default: env.MLOPS_SCHEDULER_ADDRESS },
        'inference-url': { type: 'string', default: env.MLOPS_INFERENCE_URL ?? 'http://127.0.0.1:9000' },
        'inference-grpc': { type: 'string', default: env.MLOPS_INFERENCE_GRPC ?? '127.0.0.1:9500' },
        'models-dir': { type: 'string', default: env.MLOPS_MODELS_DIR ?? '/mnt/agent/models' },
        'cache-dir': { type: 'string', default: env.MLOPS_CACHE_DIR ?? '/mnt/agent/cache' },
        memory: { type: 'string', default: env.MEMORY_REQUEST },
        'over-commit': { type: 'string', default: env.SELDON_OVERCOMMIT_PERCENTAGE ?? '10' },
        capabilities: { type: 'string', default: env.SELDON_SERVER_CAPABILITIES ?? '' },
        host: { type: 'string', default: env.POD_NAME ?? hostname() },
        'http-port': { type: 'string', default: '9001' },
        'grpc-port': { type: 'string', default: '9501' },
        'admin-port': { type: 'string', default: '9008' },
        'min-residency-ms': { type: 'string', default: '1000' },
        'unload-grace-ms': { type: 'string', default: '2000' },
        'lag-threshold': { type: 'string', default: env.SELDON_MODEL_INFERENCE_LAG_THRESHOLD ?? '30' },
        'inactive-seconds': { type: 'string', default: env.SELDON_MODEL_INACTIVE_SECONDS_THRESHOLD ?? '600' },
        'scaling-period-ms': {
          type: 'string',
          default: env.SELDON_SCALING_STATS_PERIOD_SECONDS
            ? String(Number(env.SELDON_SCALING_STATS_PERIOD_SECONDS) * 1000)
            : '20000',
        },
        'log-level': { type: 'string', default: env.LOG_LEVEL ?? 'info' },
        help: { type: 'boolean', default: false },
      },
    },
    [
      'replica',
      'over-commit',
      'http-port',
      'grpc-port',
      'admin-port',
      'min-residency-ms',
      'unload-grace-ms',
      'lag-threshold',
      'inactive-seconds',
      'scaling-period-ms',
    ],
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const problems: string[] = [];
  const identity = replicaIdentity(values.server, values.replica, env.POD_NAME);
  if (typeof identity === 'string') problems.push(identity);
  if (!values.scheduler) problems.push('--scheduler HOST:PORT (or MLOPS_SCHEDULER_ADDRESS) is required');
  let memoryBytes = 0;
  try {
    memoryBytes = quantityBytes(values.memory);
    if (memoryBytes === 0) problems.push('--memory (or MEMORY_REQUEST) is required, e.g. 2Gi');
  } catch (err) {
    problems.push(`--memory: ${(err as Error).message}`);
  }
  if (problems.length > 0) usageError(`agent: ${problems.join('; ')}`, USAGE);
  const { server, replica } = identity as { server: string; replica: number };
  const log = pino({ level: values['log-level'], base: { component: 'agent', server, replica } });
  const period = Number(values['scaling-period-ms']);
  const agent = new Agent({
    serverName: server,
    replicaIdx: replica,
    namespace: env.POD_NAMESPACE,
    schedulerAddress: values.scheduler as string,
    inferenceUrl: values['inference-url'] as string,
    inferenceGrpc: values['inference-grpc'] || undefined,
    grpcPort: Number(values['grpc-port']),
    modelsDir: values['models-dir'] as string,
    cacheDir: values['cache-dir'] as string,
    memoryBytes,
    overCommitPercentage: Number(values['over-commit']),
    capabilities: (values.capabilities ?? '')
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean),
    advertiseHost: values.host as string,
    httpPort: Number(values['http-port']),
    adminPort: Number(values['admin-port']),
    minResidencyMs: Number(values['min-residency-ms']),
    unloadGraceMs: Number(values['unload-grace-ms']),
    scaling:
      period > 0
        ? {
            lagThreshold: Number(values['lag-threshold']),
            inactiveSeconds: Number(values['inactive-seconds']),
            periodMs: period,
          }
        : undefined,
    log,
  });
  await agent.start();
  const stop = async () => {
    await agent.stop();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
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
