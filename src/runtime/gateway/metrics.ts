import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export interface GatewayMetrics {
  registry: Registry;
  requests: Counter<'protocol' | 'kind' | 'code'>;
  latency: Histogram<'protocol' | 'kind'>;
  mirrors: Counter<'outcome'>;
}

export function createMetrics(): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'mlops_gateway_requests_total',
      help: 'Requests answered by the gateway, by protocol, target kind and status code',
      labelNames: ['protocol', 'kind', 'code'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'mlops_gateway_request_seconds',
      help: 'Time from request received to response sent',
      labelNames: ['protocol', 'kind'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    mirrors: new Counter({
      name: 'mlops_gateway_mirrored_total',
      help: 'Mirrored request copies by outcome (sent, failed, dropped when too many were in flight)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}
