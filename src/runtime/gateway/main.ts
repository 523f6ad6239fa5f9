import { readFileSync } from 'node:fs';
import pino from 'pino';
import YAML from 'yaml';
import { parseFlags, usageError } from '../command-line.ts';
import type { Endpoint } from '../protocol/control.ts';
import { RouteTable } from '../protocol/route-table.ts';
import { startGateway } from './gateway.ts';
import { endpointOf, type StaticEndpoint, staticRouteUpdate } from './static-routes.ts';

const USAGE = `usage: mlops-runtime gateway [options]
  --http-port N           OIP REST port (default 9000)
  --grpc-port N           OIP gRPC port (default 9001)
  --scheduler HOST:PORT   subscribe to the scheduler's route table
  --routes FILE           static route table (YAML or JSON) instead of a scheduler
  --pipeline-gateway H:HTTP:GRPC   a pipeline gateway replica (repeatable)
  --max-body-bytes N      largest accepted request (default 67108864)
  --log-level LEVEL       pino level (default info)`;

/** `mlops-runtime gateway`: the OIP ingress (REST + gRPC) routing to model replicas and pipelines. */
export async function main(argv: string[]): Promise<void> {
  const { values } = parseFlags(
    'gateway',
    USAGE,
    {
      args: argv,
      options: {
        'http-port': { type: 'string', default: process.env.MLOPS_GATEWAY_HTTP_PORT ?? '9000' },
        'grpc-port': { type: 'string', default: process.env.MLOPS_GATEWAY_GRPC_PORT ?? '9001' },
        scheduler: { type: 'string', default: process.env.MLOPS_SCHEDULER_ADDRESS },
        routes: { type: 'string' },
        'pipeline-gateway': { type: 'string', multiple: true, default: [] },
        'max-body-bytes': { type: 'string', default: String(64 * 1024 * 1024) },
        'log-level': { type: 'string', default: process.env.LOG_LEVEL ?? 'info' },
        help: { type: 'boolean', default: false },
      },
    },
    ['http-port', 'grpc-port', 'max-body-bytes'],
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const logger = pino({ level: values['log-level'], base: { component: 'gateway' } });
  if (!values.scheduler && !values.routes) {
    usageError(`gateway: give --scheduler HOST:PORT or --routes FILE`, USAGE);
  }
  const table = new RouteTable();
  let received = false;
  let pipelineGateways: Endpoint[] = (values['pipeline-gateway'] ?? []).map((spec, i) =>
    parseEndpoint(spec, i),
  );
  let subscription: { close(): void } | undefined;
  if (values.routes) {
    let doc: { pipelineGateways?: StaticEndpoint[] };
    try {
      doc = YAML.parse(readFileSync(values.routes, 'utf8'));
      table.apply(staticRouteUpdate(doc));
    } catch (err) {
      usageError(`gateway: --routes ${values.routes}: ${(err as Error).message}`);
    }
    if (doc?.pipelineGateways)
      pipelineGateways = pipelineGateways.concat(doc.pipelineGateways.map(endpointOf));
    received = true;
  } else if (values.scheduler) {
    // Loaded only when needed: the gRPC client library is a large share of the gateway's heap, and a
    // larger heap makes every garbage collection, so every request, cost more.
    const { subscribeRoutes } = await import('../protocol/route-client.ts');
    subscription = subscribeRoutes(
      values.scheduler,
      `gateway-${process.pid}`,
      (update) => {
        table.apply(update);
        received = true;
      },
      (err) => logger.warn({ err: err.message }, 'route stream interrupted; reconnecting'),
    );
  }
  const gateway = await startGateway({
    routes: table,
    pipelineGateways: () => pipelineGateways,
    httpPort: Number(values['http-port']),
    grpcPort: Number(values['grpc-port']),
    maxBodyBytes: Number(values['max-body-bytes']),
    ready: () => received,
    logger,
  });
  logger.info({ httpPort: gateway.httpPort, grpcPort: gateway.grpcPort }, 'gateway listening');
  const stop = async () => {
    subscription?.close();
    await gateway.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

function parseEndpoint(spec: string, i: number): Endpoint {
  const m = /^(.+):(\d+):(\d+)$/.exec(spec);
  if (!m) usageError(`--pipeline-gateway "${spec}": expected HOST:HTTP_PORT:GRPC_PORT, e.g. pgw:9010:9011`);
  return endpointOf({ host: m[1], httpPort: Number(m[2]), grpcPort: Number(m[3]) }, i);
}
