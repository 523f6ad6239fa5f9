import { DATAFLOW_ROLES, type FlagValues, usage } from '../../spec/flags.ts';
import { type KafkaSecuritySettings, kafkaSecurityFromValues } from '../../spec/kafka-security.ts';
import type { Bus } from '../bus/bus.ts';
import { KafkaBus } from '../bus/kafka-bus.ts';
import { KafkaSecurityError } from '../bus/kafka-security.ts';
import { MemoryBus } from '../bus/memory-bus.ts';
import { commandLine, createLogger, stopOnSignal, usageError } from '../service/process.ts';
import { DirectorySource } from '../sources/directory.ts';
import type { DesiredStateSource } from '../sources/types.ts';
import { tracingFromFlags } from '../telemetry/from-flags.ts';
import { followPipelines } from './follow-pipelines.ts';
import { LivePipelines } from './live-pipelines.ts';
import { DataflowMetrics } from './metrics.ts';
import { GrpcModelClient } from './model-client.ts';
import { ModelGateway } from './model-gateway.ts';
import { PipelineGateway } from './pipeline-gateway.ts';
import { startPipelineServers } from './pipeline-server.ts';

const ROLES: readonly string[] = DATAFLOW_ROLES;

/** `mlops-runtime dataflow`: pipeline engine, model gateway and pipeline gateway over Kafka. */
export async function main(argv: string[]): Promise<void> {
  const values = commandLine('dataflow', argv);
  if (!values) return;
  const { roles } = values;
  const unknown = roles.filter((r) => !ROLES.includes(r));
  if (unknown.length) usageError(`dataflow: unknown role ${unknown.join(', ')}; use ${ROLES.join(', ')}`);
  if (values.bus !== 'kafka' && values.bus !== 'memory')
    usageError(`dataflow: --bus is kafka or memory`, usage('dataflow'));
  const memory = values.bus === 'memory';
  if (memory && roles.length < ROLES.length) {
    usageError('dataflow: with --bus memory every role runs in this process; leave out --roles');
  }
  if (!memory && !values.brokers?.length)
    usageError(`dataflow: --brokers (or MLOPS_KAFKA_BROKERS) is required`, usage('dataflow'));
  if (!values.manifests === !values.kubernetes) {
    usageError('dataflow: give exactly one of --manifests DIR or --kubernetes', usage('dataflow'));
  }
  if (roles.includes('model-gateway') && !values.inference) {
    usageError('dataflow: the model-gateway role needs --inference HOST:GRPC_PORT (the data-plane gateway)');
  }
  const security = kafkaSecurityFromValues(values, process.env);
  if (security.problems.length)
    usageError(`dataflow: ${security.problems.map((p) => `${p.field} ${p.message}; ${p.fix}`).join('\n')}`);
  const logger = createLogger('dataflow', values['log-level']);
  const tracing = await tracingFromFlags('dataflow', values, logger);
  const metrics = new DataflowMetrics({ processMetrics: true });
  const naming = { prefix: values['topic-prefix'], namespace: values.namespace };
  const bus: Bus = memory ? new MemoryBus() : await kafkaBus(values, security.settings, logger);
  const stops: (() => Promise<void>)[] = [];
  let client: GrpcModelClient | undefined;
  if (values.inference) {
    const [host, port] = values.inference.split(':');
    client = new GrpcModelClient([
      { serverName: 'gateway', replicaIdx: 0, host, httpPort: 0, grpcPort: Number(port) },
    ]);
    const c = client;
    stops.push(async () => c.close());
  }
  const modelGateway =
    roles.includes('model-gateway') && client
      ? new ModelGateway(bus, naming, [], client, logger, undefined, metrics)
      : undefined;
  if (modelGateway) stops.push(() => modelGateway.stop());
  let pipelineGateway: PipelineGateway | undefined;
  if (roles.includes('pipeline-gateway')) {
    const gateway = new PipelineGateway(bus, naming, [], logger, values['timeout-ms'], metrics);
    pipelineGateway = gateway;
    const servers = await startPipelineServers(gateway, logger, {
      host: values.host,
      httpPort: values['http-port'],
      grpcPort: values['grpc-port'],
    });
    logger.info({ httpPort: servers.httpPort, grpcPort: servers.grpcPort }, 'pipeline gateway listening');
    stops.push(async () => {
      await servers.close();
      await gateway.stop();
    });
  }
  // The engine runs each request's steps itself when it can call the models (see PipelineEngine).
  const live = new LivePipelines(
    bus,
    naming,
    { engines: roles.includes('engine'), models: client, modelGateway, pipelineGateway },
    logger,
    metrics,
  );
  stops.push(() => live.stop());
  const source = await followPipelines(
    await pipelineSource(values.manifests, naming.namespace, logger),
    naming.namespace,
    live,
    logger,
  );
  stops.push(() => source.stop());
  logger.info({ pipelines: live.names, roles, bus: values.bus }, 'dataflow running');
  stopOnSignal(async () => {
    for (const s of stops.reverse()) await s().catch((err) => logger.error({ err }, 'stop failed'));
    await bus.close();
    await tracing.shutdown();
  }, logger);
}

/** The Kafka bus; a TLS or SASL setting that cannot work ends the process with its reason, not a retry loop. */
async function kafkaBus(
  values: FlagValues<'dataflow'>,
  security: KafkaSecuritySettings,
  logger: ReturnType<typeof createLogger>,
): Promise<Bus> {
  try {
    const bus = new KafkaBus({
      brokers: values.brokers ?? [],
      logger,
      partitions: values.partitions,
      replicationFactor: values['replication-factor'],
      instanceId: values['instance-id'],
      security,
    });
    await bus.verify();
    return bus;
  } catch (err) {
    if (!(err instanceof KafkaSecurityError)) throw err;
    logger.fatal(err.message);
    // Also plain on stderr: the exit below may come before an asynchronous log write.
    process.stderr.write(`dataflow: ${err.message}\n`);
    process.exit(1);
  }
}

/** The manifest folder, or (cluster mode) a watch on the namespace's Pipelines only. */
async function pipelineSource(
  manifests: string | undefined,
  namespace: string,
  logger: ReturnType<typeof createLogger>,
): Promise<DesiredStateSource> {
  if (manifests) return new DirectorySource(manifests, logger);
  const { KubernetesSource } = await import('../sources/kubernetes.ts');
  return KubernetesSource.fromDefaultConfig(logger, namespace, ['Pipeline']);
}
