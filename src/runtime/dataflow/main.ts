import pino from 'pino';
import type { Bus } from '../bus/bus.ts';
import { KafkaBus } from '../bus/kafka-bus.ts';
import { MemoryBus } from '../bus/memory-bus.ts';
import { parseFlags, usageError } from '../command-line.ts';
import { PipelineEngine } from './engine.ts';
import { readPipelines } from './manifests.ts';
import { GrpcModelClient } from './model-client.ts';
import { ModelGateway } from './model-gateway.ts';
import { PipelineGateway } from './pipeline-gateway.ts';
import { startPipelineServers } from './pipeline-server.ts';
import { planPipeline } from './plan.ts';

const USAGE = `usage: mlops-runtime dataflow [options]
  --bus kafka|memory      Kafka (default), or an in-process bus for one machine: every role
                          then runs in this process and nothing is persisted
  --brokers H:P[,H:P]     Kafka bootstrap servers (or MLOPS_KAFKA_BROKERS)
  --manifests DIR         folder of YAML holding the Pipeline resources to run
  --namespace NS          namespace in topic names and manifests (default "default")
  --topic-prefix P        topic prefix (default "seldon")
  --inference H:GRPC      where the model gateway sends inference (the data-plane gateway)
  --roles LIST            engine,model-gateway,pipeline-gateway (default: all three)
  --host ADDR             address the pipeline gateway listens on (default all interfaces)
  --http-port N           pipeline gateway REST port (default 9010)
  --grpc-port N           pipeline gateway gRPC port (default 9011)
  --timeout-ms N          synchronous pipeline call timeout (default 30000)
  --partitions N          partitions of topics this process creates (default 1)
  --replication-factor N  replication of topics this process creates (default 1)
  --instance-id ID        names this process's transactional producers; keep it stable across
                          restarts (e.g. a StatefulSet pod name) so a restarted process fences
                          its predecessor (default: host name)
  --log-level LEVEL       pino level (default info)`;

const ROLES = ['engine', 'model-gateway', 'pipeline-gateway'];

/** `mlops-runtime dataflow`: pipeline engine, model gateway and pipeline gateway over Kafka. */
export async function main(argv: string[]): Promise<void> {
  const { values } = parseFlags(
    'dataflow',
    USAGE,
    {
      args: argv,
      options: {
        bus: { type: 'string', default: 'kafka' },
        brokers: { type: 'string', default: process.env.MLOPS_KAFKA_BROKERS },
        host: { type: 'string' },
        manifests: { type: 'string' },
        namespace: { type: 'string', default: 'default' },
        'topic-prefix': { type: 'string', default: 'seldon' },
        inference: { type: 'string' },
        roles: { type: 'string', default: ROLES.join(',') },
        'http-port': { type: 'string', default: '9010' },
        'grpc-port': { type: 'string', default: '9011' },
        'timeout-ms': { type: 'string', default: '30000' },
        partitions: { type: 'string', default: '1' },
        'replication-factor': { type: 'string', default: '1' },
        'instance-id': { type: 'string' },
        'log-level': { type: 'string', default: process.env.LOG_LEVEL ?? 'info' },
        help: { type: 'boolean', default: false },
      },
    },
    ['http-port', 'grpc-port', 'timeout-ms', 'partitions', 'replication-factor'],
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const roles = (values.roles ?? '').split(',').filter(Boolean);
  const unknown = roles.filter((r) => !ROLES.includes(r));
  if (unknown.length) usageError(`dataflow: unknown role ${unknown.join(', ')}; use ${ROLES.join(', ')}`);
  if (values.bus !== 'kafka' && values.bus !== 'memory')
    usageError(`dataflow: --bus is kafka or memory`, USAGE);
  const memory = values.bus === 'memory';
  if (memory && roles.length < ROLES.length) {
    usageError('dataflow: with --bus memory every role runs in this process; leave out --roles');
  }
  if (!memory && !values.brokers)
    usageError(`dataflow: --brokers (or MLOPS_KAFKA_BROKERS) is required`, USAGE);
  if (!values.manifests) usageError(`dataflow: --manifests DIR is required`, USAGE);
  if (roles.includes('model-gateway') && !values.inference) {
    usageError('dataflow: the model-gateway role needs --inference HOST:GRPC_PORT (the data-plane gateway)');
  }
  const logger = pino({ level: values['log-level'], base: { component: 'dataflow' } });
  const naming = { prefix: values['topic-prefix'] ?? 'seldon', namespace: values.namespace ?? 'default' };
  const pipelines = readPipelines(values.manifests, naming.namespace);
  const plans = pipelines.map((p) => planPipeline(p.metadata.name, p.spec, naming));
  const bus: Bus = memory
    ? new MemoryBus()
    : new KafkaBus({
        brokers: (values.brokers ?? '').split(','),
        logger,
        partitions: Number(values.partitions),
        replicationFactor: Number(values['replication-factor']),
        instanceId: values['instance-id'],
      });
  const stops: (() => Promise<void>)[] = [];
  if (roles.includes('engine')) {
    for (const plan of plans) {
      const engine = new PipelineEngine(plan, bus, naming, logger);
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
    const gateway = new ModelGateway(bus, naming, models, client, logger);
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
      Number(values['timeout-ms']),
    );
    await gateway.start();
    const servers = await startPipelineServers(gateway, logger, {
      host: values.host,
      httpPort: Number(values['http-port']),
      grpcPort: Number(values['grpc-port']),
    });
    logger.info({ httpPort: servers.httpPort, grpcPort: servers.grpcPort }, 'pipeline gateway listening');
    stops.push(async () => {
      await servers.close();
      await gateway.stop();
    });
  }
  logger.info({ pipelines: plans.map((p) => p.name), roles, bus: values.bus }, 'dataflow running');
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err) => logger.error({ err }, 'stop failed'));
    await bus.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
