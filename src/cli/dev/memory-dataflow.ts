// Entry point of a child process: the dataflow's three parts (engine, model gateway, pipeline
// gateway) over the in-process bus, which works only when they share one process.
// `mlops-runtime dataflow` talks to Kafka only, so `mlops dev` without --kafka runs this instead.
import { parseArgs } from 'node:util';
import pino from 'pino';
import { MemoryBus } from '../../runtime/bus/memory-bus.ts';
import { PipelineEngine } from '../../runtime/dataflow/engine.ts';
import { readPipelines } from '../../runtime/dataflow/manifests.ts';
import { GrpcModelClient } from '../../runtime/dataflow/model-client.ts';
import { ModelGateway } from '../../runtime/dataflow/model-gateway.ts';
import { PipelineGateway } from '../../runtime/dataflow/pipeline-gateway.ts';
import { startPipelineServers } from '../../runtime/dataflow/pipeline-server.ts';
import { planPipeline } from '../../runtime/dataflow/plan.ts';

const { values } = parseArgs({
  options: {
    manifests: { type: 'string' },
    namespace: { type: 'string', default: 'default' },
    'topic-prefix': { type: 'string', default: 'seldon' },
    inference: { type: 'string' },
    'http-port': { type: 'string' },
    'grpc-port': { type: 'string' },
    'timeout-ms': { type: 'string', default: '30000' },
    'log-level': { type: 'string', default: 'info' },
  },
});
if (!values.manifests || !values.inference || !values['http-port'] || !values['grpc-port']) {
  process.stderr.write(
    'memory dataflow: --manifests, --inference, --http-port and --grpc-port are required\n',
  );
  process.exit(2);
}
const logger = pino({ level: values['log-level'], base: { component: 'dataflow' } });
const naming = { prefix: values['topic-prefix'] ?? 'seldon', namespace: values.namespace ?? 'default' };
const pipelines = readPipelines(values.manifests, naming.namespace);
const bus = new MemoryBus();
const engines = pipelines.map(
  (p) => new PipelineEngine(planPipeline(p.metadata.name, p.spec, naming), bus, naming, logger),
);
for (const engine of engines) await engine.start();
const [host, port] = values.inference.split(':');
const client = new GrpcModelClient([
  { serverName: 'gateway', replicaIdx: 0, host, httpPort: 0, grpcPort: Number(port) },
]);
const models = [...new Set(pipelines.flatMap((p) => p.spec.steps.map((s) => s.name)))].sort();
const modelGateway = new ModelGateway(bus, naming, models, client, logger);
await modelGateway.start();
const pipelineGateway = new PipelineGateway(
  bus,
  naming,
  pipelines.map((p) => p.metadata.name),
  logger,
  Number(values['timeout-ms']),
);
await pipelineGateway.start();
const servers = await startPipelineServers(pipelineGateway, logger, {
  host: '127.0.0.1',
  httpPort: Number(values['http-port']),
  grpcPort: Number(values['grpc-port']),
});
logger.info(
  { pipelines: pipelines.map((p) => p.metadata.name), httpPort: servers.httpPort, bus: 'in-process' },
  'dataflow running',
);

const stop = async () => {
  await servers.close();
  await pipelineGateway.stop();
  await modelGateway.stop();
  client.close();
  for (const engine of engines) await engine.stop();
  await bus.close();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
