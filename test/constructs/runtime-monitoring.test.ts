import { App } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { Environment } from '../../src/constructs/environment.ts';
import { DASHBOARD_PANELS } from '../../src/constructs/monitoring/dashboard.ts';
import { Runtime, type RuntimeProps } from '../../src/constructs/runtime.ts';
import { Server } from '../../src/constructs/server.ts';
import { ServerConfig } from '../../src/constructs/server-config.ts';
import { metricNamed } from '../../src/spec/metrics.ts';
import { checkSchemas } from '../../src/synth/check/schemas.ts';
import { synthesizeObjects } from '../../src/synth/synthesize.ts';
import { type Json, problems } from './helpers.ts';

function build(props: RuntimeProps): { objects: Json[]; app: App } {
  const app = new App({ outdir: 'unused' });
  const env = new Environment(app, 'prod', { namespace: 'prod' });
  new Runtime(env, 'runtime', { kafka: { bootstrapServers: ['kafka:9092'] }, ...props });
  new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER });
  return { objects: synthesizeObjects(app).map((o) => o.manifest as Json), app };
}

const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Metric names a PromQL expression reads (an identifier followed by a selector). */
const metricsIn = (expr: string) => [...expr.matchAll(/([a-z_:][a-z0-9_:]*)\{/g)].map((m) => m[1]);

describe('Runtime monitoring', () => {
  it('scrapes every component: each PodMonitor selects its pods and names a port they serve', () => {
    const { objects, app } = build({
      monitoring: { monitorLabels: { release: 'kps' }, scrapeInterval: '15s' },
    });
    expect(problems(app)).toEqual([]);
    const monitors = objects.filter((o) => o.kind === 'PodMonitor');
    expect(monitors.map((m) => m.metadata.name).sort()).toEqual([
      'mlops-dataflow',
      'mlops-gateway',
      'mlops-scheduler',
      'mlops-server',
    ]);
    const pods = objects
      .filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind))
      .map((o) => o.spec.template);
    for (const m of monitors) {
      expect(m.metadata.labels).toEqual({ release: 'kps' });
      const selected = pods.filter((p) => matches(m.spec.selector.matchLabels, p.metadata.labels));
      expect(selected.length, m.metadata.name).toBe(1);
      const ports = selected[0].spec.containers.flatMap((c: Json) =>
        (c.ports ?? []).map((p: Json) => p.name),
      );
      for (const e of m.spec.podMetricsEndpoints) {
        expect(ports, `${m.metadata.name} ${e.port}`).toContain(e.port);
        expect(e).toMatchObject({ path: '/metrics', interval: '15s' });
      }
    }
    const scrape = objects.filter((o) => o.kind === 'NetworkPolicy' && o.metadata.name.endsWith('-scrape'));
    expect(scrape.map((p) => p.spec.ingress[0].from[0].namespaceSelector.matchLabels)).toEqual([
      { 'kubernetes.io/metadata.name': 'monitoring' },
      { 'kubernetes.io/metadata.name': 'monitoring' },
    ]);
  });

  it('ships the dashboard for the Grafana sidecar, charting only metrics the runtime exports', () => {
    const { objects } = build({ monitoring: {} });
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'mlops-dashboard');
    expect(cm.metadata.labels).toEqual({ grafana_dashboard: '1' });
    const dashboard = JSON.parse(cm.data['mlops-runtime.json']);
    const exprs: string[] = dashboard.panels.flatMap((p: Json) => p.targets.map((t: Json) => t.expr));
    expect(exprs.length).toBe(DASHBOARD_PANELS.flatMap((p) => p.targets).length);
    for (const expr of exprs) {
      expect(metricsIn(expr).length, expr).toBeGreaterThan(0);
      for (const name of metricsIn(expr)) {
        const base = name.replace(/_bucket$/, '');
        expect(metricNamed(base), `${name} in ${expr}`).toBeDefined();
      }
      expect(expr).toContain('namespace=~"$namespace"');
    }
    expect(dashboard.panels.map((p: Json) => p.title)).toEqual(
      expect.arrayContaining([
        'Model latency percentiles',
        'Pipeline error ratio',
        'Kafka lag per pipeline',
        'Memory per server replica',
      ]),
    );
  });

  it('emits nothing for monitoring unless asked, and each part can be left out', () => {
    const kinds = (objects: Json[]) =>
      objects.filter((o) => o.kind === 'PodMonitor' || o.metadata.name === 'mlops-dashboard');
    expect(kinds(build({}).objects)).toEqual([]);
    expect(kinds(build({ monitoring: { dashboard: false } }).objects).map((o) => o.kind)).not.toContain(
      'ConfigMap',
    );
    expect(kinds(build({ monitoring: { podMonitors: false } }).objects).map((o) => o.kind)).toEqual([
      'ConfigMap',
    ]);
  });

  it('is valid for `mlops validate`, whose PodMonitor schema is strict', () => {
    const { objects } = build({ monitoring: {} });
    const checked = objects.map((object, i) => ({ object, file: `${i}.yaml` }));
    expect(checkSchemas(checked)).toEqual([]);
    const monitor = objects.find((o) => o.kind === 'PodMonitor');
    const bad = structuredClone(monitor);
    bad.spec.podMetricsEndpoints[0].intervall = '15s';
    bad.spec.podMetricsEndpoints[0].interval = 'soon';
    const findings = checkSchemas([{ object: bad, file: 'bad.yaml' }]).map((f) => `${f.path} ${f.check}`);
    expect(findings).toEqual(
      expect.arrayContaining([
        'spec.podMetricsEndpoints[0].intervall unknown-field',
        'spec.podMetricsEndpoints[0].interval crd',
      ]),
    );
  });
});
