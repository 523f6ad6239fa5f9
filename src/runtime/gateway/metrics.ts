import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** The gateway's Prometheus metrics (with the process's default metrics), on a registry of its own. */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'mlops_gateway_requests_total',
    help: 'Requests answered by the gateway, by protocol, target kind and status code',
    labelNames: ['protocol', 'kind', 'code'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'mlops_gateway_request_seconds',
    help: 'Time from request received to response sent',
    labelNames: ['protocol', 'kind'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });
  readonly mirrors = new Counter({
    name: 'mlops_gateway_mirrored_total',
    help: 'Mirrored request copies by outcome (sent, failed, dropped when too many were in flight)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}

type RequestLabels = { protocol: string; kind: string; code: number };
type LatencyLabels = { protocol: string; kind: string };

/**
 * Counts and times one protocol's requests. Label objects are built once per kind and code:
 * a fresh object per request is garbage the gateway would collect at every request.
 */
export class RequestRecorder {
  private readonly byKind = new Map<string, { latency: LatencyLabels; codes: Map<number, RequestLabels> }>();

  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly protocol: 'rest' | 'grpc',
  ) {}

  /** `startedMs` is the `performance.now()` at which the request arrived. */
  record(kind: string, code: number, startedMs: number): void {
    let labels = this.byKind.get(kind);
    if (!labels) {
      labels = { latency: { protocol: this.protocol, kind }, codes: new Map() };
      this.byKind.set(kind, labels);
    }
    let requestLabels = labels.codes.get(code);
    if (!requestLabels) {
      requestLabels = { protocol: this.protocol, kind, code };
      labels.codes.set(code, requestLabels);
    }
    this.metrics.requests.inc(requestLabels);
    this.metrics.latency.observe(labels.latency, (performance.now() - startedMs) / 1000);
  }
}
