import { DATAFLOW_ROLES, usage } from '../../spec/flags.ts';
import type { Bus } from '../bus/bus.ts';
import { KafkaBus } from '../bus/kafka-bus.ts';
import { MemoryBus } from '../bus/memory-bus.ts';
import { commandLine, createLogger, stopOnSignal, usageError } from '../service/process.ts';
import { PipelineEngine } from './engine.ts';
import { readPipelines } from './manifests.ts';
import { DataflowMetrics } from './metrics.ts';
import { GrpcModelClient } from './model-client.ts';
import { ModelGateway } from './model-gateway.ts';
import { PipelineGateway } from './pipeline-gateway.ts';
import { startPipelineServers } from './pipeline-server.ts';
import { planPipeline } from './plan.ts';

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
  if (!values.manifests) usageError(`dataflow: --manifests DIR is required`, usage('dataflow'));
  if (roles.includes('model-gateway') && !values.inference) {
    usageError('dataflow: the model-gateway role needs --inference HOST:GRPC_PORT (the data-plane gateway)');
  }
  const logger = createLogger('dataflow', values['log-level']);
  const metrics = new DataflowMetrics({ processMetrics: true });
  const naming = { prefix: values['topic-prefix'], namespace: values.namespace };
  const pipelines = readPipelines(values.manifests, naming.namespace);
  const plans = pipelines.map((p) => planPipeline(p.metadata.name, p.spec, naming));
  const bus: Bus = memory
    ? new MemoryBus()
    : new KafkaBus({
        brokers: values.brokers ?? [],
        logger,
        partitions: values.partitions,
        replicationFactor: values['replication-factor'],
        instanceId: values['instance-id'],
      });
  const stops: (() => Promise<void>)[] = [];
  if (roles.includes('engine')) {
    for (const plan of plans) {
      const engine = new PipelineEngine(plan, bus, naming, logger, Date.now, metrics);
      await engine.start();
      stops.push(() => engine.stop());
    }
  }
  if (roles.includes('model-gateway')) {
    const [host, port] = (values.inference ?? '').split(':');
    const client = new GrpcModelClient([
      { serverName: 'gateway', replicaIdx: 0, host, httpPort: 0, grpcPort: Number(port) },
    ]);
    const models = [...new Set(pipelines.flatMap((p) => p.spec.steps.map((s) => s.name)))].sort();
    const gateway = new ModelGateway(bus, naming, models, client, logger, undefined, metrics);
    await gateway.start();
    stops.push(async () => {
      await gateway.stop();
      client.close();
    });
  }
  if (roles.includes('pipeline-gateway')) {
    const gateway = new PipelineGateway(
      bus,
      naming,
      pipelines.map((p) => p.metadata.name),
      logger,
      values['timeout-ms'],
      metrics,
    );
    await gateway.start();
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
  logger.info({ pipelines: plans.map((p) => p.name), roles, bus: values.bus }, 'dataflow running');
  stopOnSignal(async () => {
    for (const s of stops.reverse()) await s().catch((err) => logger.error({ err }, 'stop failed'));
    await bus.close();
  }, logger);
}
