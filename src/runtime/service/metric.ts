// prom-client metrics built from their definitions in spec/metrics.ts, so the names, labels and
// buckets served are exactly the documented ones.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { MetricDef } from '../../spec/metrics.ts';

const options = (d: MetricDef, registry: Registry) => ({
  name: d.name,
  help: d.help,
  labelNames: [...d.labels],
  registers: [registry],
});

export function counter(registry: Registry, d: MetricDef): Counter {
  return new Counter(options(d, registry));
}

export function gauge(registry: Registry, d: MetricDef, collect?: (this: Gauge) => void): Gauge {
  return new Gauge({ ...options(d, registry), ...(collect ? { collect } : {}) });
}

export function histogram(registry: Registry, d: MetricDef): Histogram {
  return new Histogram({ ...options(d, registry), buckets: [...(d.buckets ?? [])] });
}

type Labels = Record<string, string | number>;

/**
 * Seldon's five series of one kind of inference call (a model's on the agent, a pipeline's on
 * the pipeline gateway): calls and their summed seconds per item and in aggregate, and the API
 * latency histogram. They are always recorded together, so one call records them all.
 */
export class SeldonInferSeries {
  private readonly calls: Counter;
  private readonly seconds: Counter;
  private readonly aggregateCalls: Counter;
  private readonly aggregateSeconds: Counter;
  private readonly apiSeconds: Histogram;

  constructor(
    registry: Registry,
    d: {
      infer: MetricDef;
      inferSeconds: MetricDef;
      aggregateInfer: MetricDef;
      aggregateInferSeconds: MetricDef;
      inferApiSeconds: MetricDef;
    },
  ) {
    this.calls = counter(registry, d.infer);
    this.seconds = counter(registry, d.inferSeconds);
    this.aggregateCalls = counter(registry, d.aggregateInfer);
    this.aggregateSeconds = counter(registry, d.aggregateInferSeconds);
    this.apiSeconds = histogram(registry, d.inferApiSeconds);
  }

  record(labels: { item: Labels; aggregate: Labels; api: Labels }, seconds: number): void {
    this.calls.inc(labels.item);
    this.seconds.inc(labels.item, seconds);
    this.aggregateCalls.inc(labels.aggregate);
    this.aggregateSeconds.inc(labels.aggregate, seconds);
    this.apiSeconds.observe(labels.api, seconds);
  }
}
