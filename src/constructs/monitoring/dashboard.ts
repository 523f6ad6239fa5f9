/**
 * The Grafana dashboard of a runtime: per-model and per-pipeline rate, errors and latency
 * percentiles, registered, in-memory and evicted models, memory per server replica, and the
 * dataflow's Kafka lag. Every query names metrics from spec/metrics.ts, so it can only chart
 * what the runtime exports; each filters on the `namespace` label Prometheus gives the targets
 * of a PodMonitor, chosen with the dashboard's `namespace` variable.
 */
import {
  AGENT_METRICS as A,
  DATAFLOW_METRICS as D,
  type MetricDef,
  SCHEDULER_METRICS as S,
} from '../../spec/metrics.ts';

export interface DashboardTarget {
  readonly expr: string;
  readonly legendFormat: string;
}

export interface DashboardPanel {
  readonly title: string;
  readonly unit: string;
  readonly targets: readonly DashboardTarget[];
}

/** Window of the rates: four scrapes at a 15 s interval. */
const WINDOW = '1m';
const NS = 'namespace=~"$namespace"';
/** Non-success codes in Seldon's labels: HTTP statuses other than 2xx, gRPC statuses other than OK. */
const FAILED = 'code!~"2..|OK"';

const sel = (m: MetricDef, extra = '', suffix = '') =>
  `${m.name}${suffix}{${[NS, extra].filter(Boolean).join(',')}}`;
const rate = (m: MetricDef, by: string, extra = '') => `sum by (${by}) (rate(${sel(m, extra)}[${WINDOW}]))`;
const quantiles = (m: MetricDef, by: string): DashboardTarget[] =>
  [0.5, 0.95, 0.99].map((q) => ({
    expr: `histogram_quantile(${q}, sum by (${by}, le) (rate(${sel(m, '', '_bucket')}[${WINDOW}])))`,
    legendFormat: `{{${by}}} p${Math.round(q * 100)}`,
  }));
const errorRatio = (m: MetricDef, by: string): DashboardTarget => ({
  expr: `${rate(m, by, FAILED)} / ${rate(m, by)}`,
  legendFormat: `{{${by}}}`,
});

/** The panels, in order; exported for tests that run every query against a real Prometheus. */
export const DASHBOARD_PANELS: readonly DashboardPanel[] = [
  {
    title: 'Model inference rate',
    unit: 'reqps',
    targets: [{ expr: rate(A.infer, 'model'), legendFormat: '{{model}}' }],
  },
  { title: 'Model error ratio', unit: 'percentunit', targets: [errorRatio(A.infer, 'model')] },
  { title: 'Model latency percentiles', unit: 's', targets: quantiles(A.inferSecondsByModel, 'model') },
  {
    title: 'Pipeline request rate',
    unit: 'reqps',
    targets: [{ expr: rate(D.infer, 'pipeline'), legendFormat: '{{pipeline}}' }],
  },
  { title: 'Pipeline error ratio', unit: 'percentunit', targets: [errorRatio(D.infer, 'pipeline')] },
  { title: 'Pipeline latency percentiles', unit: 's', targets: quantiles(D.inferApiSeconds, 'pipeline') },
  {
    title: 'Models per server',
    unit: 'short',
    targets: [
      { expr: `sum by (server) (${sel(A.loaded)})`, legendFormat: '{{server}} registered' },
      { expr: `count by (server) (${sel(A.loadedMemory)} > 0)`, legendFormat: '{{server}} in memory' },
      {
        expr: `count by (server) (${sel(A.evictedMemory)} > 0) or sum by (server) (${sel(A.evictedMemory)})`,
        legendFormat: '{{server}} evicted',
      },
    ],
  },
  {
    title: 'Evictions and reloads',
    unit: 'ops',
    targets: [
      { expr: rate(A.cacheEvict, 'server'), legendFormat: '{{server}} evicted' },
      { expr: rate(A.cacheMiss, 'server'), legendFormat: '{{server}} reloaded' },
    ],
  },
  {
    title: 'Memory per server replica',
    unit: 'bytes',
    targets: [
      {
        expr: `sum by (server, server_replica) (${sel(A.loadedMemory)})`,
        legendFormat: '{{server}}-{{server_replica}} in memory',
      },
      {
        expr: `sum by (server, server_replica) (${sel(A.evictedMemory)})`,
        legendFormat: '{{server}}-{{server_replica}} evicted',
      },
      {
        expr: `sum by (server, server_replica) (${sel(A.capacity)})`,
        legendFormat: '{{server}}-{{server_replica}} capacity',
      },
      {
        expr: `sum by (server, server_replica) (${sel(A.capacityOvercommit)})`,
        legendFormat: '{{server}}-{{server_replica}} with over-commit',
      },
    ],
  },
  {
    title: 'Kafka lag per pipeline',
    unit: 'short',
    targets: [{ expr: `sum by (pipeline) (${sel(D.consumerLag)})`, legendFormat: '{{pipeline}}' }],
  },
  {
    title: 'Models by state',
    unit: 'short',
    targets: [{ expr: `sum by (state) (${sel(S.models)})`, legendFormat: '{{state}}' }],
  },
];

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable (the data source picked on the dashboard)
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

/** The dashboard's JSON model (Grafana 10+), for the Grafana sidecar or an import. */
export function grafanaDashboard(opts: { title: string; uid: string }): Record<string, unknown> {
  const panels = DASHBOARD_PANELS.map((p, i) => ({
    id: i + 1,
    type: 'timeseries',
    title: p.title,
    datasource: DATASOURCE,
    gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
    fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
    options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true } },
    targets: p.targets.map((t, j) => ({
      refId: String.fromCharCode(65 + j),
      datasource: DATASOURCE,
      expr: t.expr,
      legendFormat: t.legendFormat,
    })),
  }));
  return {
    title: opts.title,
    uid: opts.uid,
    tags: ['mlops', 'seldon'],
    editable: true,
    schemaVersion: 39,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    templating: {
      list: [
        { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus' },
        {
          name: 'namespace',
          label: 'Namespace',
          type: 'query',
          datasource: DATASOURCE,
          query: { query: `label_values(${A.capacity.name}, namespace)`, refId: 'namespace' },
          definition: `label_values(${A.capacity.name}, namespace)`,
          refresh: 2,
          includeAll: true,
          multi: true,
        },
      ],
    },
    panels,
  };
}
