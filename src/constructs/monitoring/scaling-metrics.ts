/**
 * The custom metrics a HorizontalPodAutoscaler can scale a Model or a Server on, and the
 * Prometheus Adapter rule that serves each from the runtime's Prometheus metrics. A rule
 * associates series with Models and Servers through their `model` and `server` labels, and
 * with the namespace through the `namespace` label Prometheus gives every scraped pod.
 */
import { AGENT_METRICS, ALL_METRICS, type MetricDef, metricNamed } from '../../spec/metrics.ts';
import { API_GROUP } from '../../spec/types.ts';

/**
 * What to scale on: `'inferRate'`, inference requests per second per replica (Seldon's
 * documented `infer_rps`); `'inferLatency'`, the mean seconds of an inference call; or
 * `{ rateOf }`, the per-second rate (per replica) of any exported counter with a `model` or
 * `server` label.
 */
export type ScalingMetric = 'inferRate' | 'inferLatency' | { readonly rateOf: string };

/** A rule of the Prometheus Adapter's configuration (its `rules` list). */
export interface AdapterRule {
  seriesQuery: string;
  resources: { overrides: Record<string, { group?: string; resource: string }> };
  name: { matches: string; as: string };
  metricsQuery: string;
}

/** A scaling metric, resolved: the custom metric's name, its rule, and how HPAs target it. */
export interface ResolvedMetric {
  /** Name in the custom metrics API (`metric.name` of the HPA). */
  name: string;
  /** `AverageValue`: divided by the target's replicas; `Value`: compared as is. */
  targetType: 'AverageValue' | 'Value';
  rule: AdapterRule;
  /** The exported metrics it reads. */
  sources: MetricDef[];
}

/** Window of the adapter's rates. */
const WINDOW = '1m';
const RESOURCE_LABELS = { model: 'models', server: 'servers' } as const;

function overrides(m: MetricDef): AdapterRule['resources']['overrides'] {
  const out: AdapterRule['resources']['overrides'] = { namespace: { resource: 'namespace' } };
  for (const [label, resource] of Object.entries(RESOURCE_LABELS))
    if (m.labels.includes(label)) out[label] = { group: API_GROUP, resource };
  return out;
}

const rateQuery = (series: string) =>
  `sum by (<<.GroupBy>>) (rate(${series}{<<.LabelMatchers>>}[${WINDOW}]))`;

function rateOf(m: MetricDef, as: string): ResolvedMetric {
  return {
    name: as,
    targetType: 'AverageValue',
    sources: [m],
    rule: {
      seriesQuery: `${m.name}{namespace!=""}`,
      resources: { overrides: overrides(m) },
      name: { matches: `^${m.name}$`, as },
      metricsQuery: rateQuery('<<.Series>>'),
    },
  };
}

/** Why `metric` cannot scale a `kind`, or its resolution. */
export function resolveScalingMetric(
  metric: ScalingMetric,
  kind: 'Model' | 'Server',
): ResolvedMetric | string {
  const label = kind === 'Model' ? 'model' : 'server';
  if (metric === 'inferRate') return rateOf(AGENT_METRICS.infer, 'infer_rps');
  if (metric === 'inferLatency') {
    const [seconds, calls] = [AGENT_METRICS.inferSeconds, AGENT_METRICS.infer];
    return {
      name: 'infer_latency_seconds',
      targetType: 'Value',
      sources: [seconds, calls],
      rule: {
        seriesQuery: `${seconds.name}{namespace!=""}`,
        resources: { overrides: overrides(seconds) },
        name: { matches: `^${seconds.name}$`, as: 'infer_latency_seconds' },
        metricsQuery: `${rateQuery(seconds.name)} / ${rateQuery(calls.name)}`,
      },
    };
  }
  if (typeof metric !== 'object' || metric === null || typeof metric.rateOf !== 'string')
    return `is not one of 'inferRate', 'inferLatency' or { rateOf: '<counter>' }`;
  const m = metricNamed(metric.rateOf);
  if (!m) return `names "${metric.rateOf}", which is not a metric the runtime exports`;
  if (m.type !== 'counter') return `names "${m.name}", a ${m.type}: only a counter has a rate`;
  if (!m.labels.includes(label))
    return `names "${m.name}", which has no "${label}" label to tell one ${kind}'s series from another's`;
  return rateOf(m, `${m.name.replace(/_total$|_count$|_counter$/, '')}_per_second`);
}

/** Exported counters a `{ rateOf }` metric may name for a `kind`. */
export function scalableCounters(kind: 'Model' | 'Server'): string[] {
  const label = kind === 'Model' ? 'model' : 'server';
  return ALL_METRICS.filter((m) => m.type === 'counter' && m.labels.includes(label)).map((m) => m.name);
}
