import { collectDefaultMetrics, Registry } from 'prom-client';
import { GATEWAY_METRICS as M } from '../../spec/metrics.ts';
import { counter, histogram } from '../service/metric.ts';

/** The gateway's Prometheus metrics (with the process's default metrics), on a registry of its own. */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = counter(this.registry, M.requests);
  readonly latency = histogram(this.registry, M.latency);
  readonly mirrors = counter(this.registry, M.mirrors);

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
