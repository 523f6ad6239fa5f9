import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { usage } from '../../spec/flags.ts';
import type { Endpoint } from '../protocol/control.ts';
import { RouteTable } from '../protocol/route-table.ts';
import { commandLine, createLogger, stopOnSignal, usageError } from '../service/process.ts';
import { tracingFromFlags } from '../telemetry/from-flags.ts';
import { startGateway } from './gateway.ts';
import { GatewayMetrics } from './metrics.ts';
import { endpointOf, type StaticEndpoint, staticRouteUpdate } from './static-routes.ts';

/** `mlops-runtime gateway`: the OIP ingress (REST + gRPC) routing to model replicas and pipelines. */
export async function main(argv: string[]): Promise<void> {
  const values = commandLine('gateway', argv);
  if (!values) return;
  const logger = createLogger('gateway', values['log-level']);
  if (!values.scheduler && !values.routes) {
    usageError(`gateway: give --scheduler HOST:PORT or --routes FILE`, usage('gateway'));
  }
  const tracing = await tracingFromFlags('gateway', values, logger);
  const table = new RouteTable();
  let received = false;
  let pipelineGateways: Endpoint[] = values['pipeline-gateway'].map((spec, i) => parseEndpoint(spec, i));
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
    const { controlCredential, credentialOptions } = await import('../service/identity.ts');
    subscription = subscribeRoutes(
      values.scheduler,
      `gateway-${process.pid}`,
      (update) => {
        table.apply(update);
        received = true;
      },
      (err) => logger.warn({ err: err.message }, 'route stream interrupted; reconnecting'),
      credentialOptions(controlCredential(values['scheduler-token-file'])),
    );
  }
  const gateway = await startGateway({
    routes: table,
    pipelineGateways: () => pipelineGateways,
    host: values.listen,
    httpPort: values['http-port'],
    grpcPort: values['grpc-port'],
    maxBodyBytes: values['max-body-bytes'],
    maxInflightBytes: values['max-inflight-bytes'],
    metrics: new GatewayMetrics(),
    ready: () => received,
    logger,
  });
  logger.info({ httpPort: gateway.httpPort, grpcPort: gateway.grpcPort }, 'gateway listening');
  stopOnSignal(async () => {
    subscription?.close();
    await gateway.close();
    await tracing.shutdown();
  }, logger);
}

function parseEndpoint(spec: string, i: number): Endpoint {
  const m = /^(.+):(\d+):(\d+)$/.exec(spec);
  if (!m) usageError(`--pipeline-gateway "${spec}": expected HOST:HTTP_PORT:GRPC_PORT, e.g. pgw:9010:9011`);
  return endpointOf({ host: m[1], httpPort: Number(m[2]), grpcPort: Number(m[3]) }, i);
}
