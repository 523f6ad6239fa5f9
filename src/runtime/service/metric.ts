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
