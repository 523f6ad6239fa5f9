/**
 * Scraping and dashboards of a runtime, for the prometheus-operator and Grafana's dashboard
 * sidecar: one `PodMonitor` per component (scheduler, gateway, dataflow, server pods with their
 * agent and inference server), a NetworkPolicy letting Prometheus reach the metrics ports the
 * runtime's own policies keep closed, and the dashboard as a labelled ConfigMap.
 *
 * PodMonitors rather than ServiceMonitors: every component's pods carry stable labels and a
 * named metrics port, while the Services are headless or do not publish the admin ports; and
 * per-replica metrics (memory per server replica) need every pod scraped, which a PodMonitor does.
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { PORTS } from '../../spec/ports.ts';
import { k8s } from '../workloads/kplus.ts';
import { selectorLabels } from '../workloads/workload.ts';
import { grafanaDashboard } from './dashboard.ts';

export interface MonitoringSettings {
  /**
   * prometheus-operator `PodMonitor` objects for the scheduler, the gateway, the dataflow engine
   * and every server pod (its agent and its inference server).
   * @default true
   */
  readonly podMonitors?: boolean;
  /**
   * Labels added to the PodMonitors, for a Prometheus whose `podMonitorSelector` asks for them
   * (kube-prometheus-stack: `{ release: '<its release name>' }`).
   * @default - none
   */
  readonly monitorLabels?: Record<string, string>;
  /**
   * How often Prometheus scrapes each component, e.g. `'15s'`.
   * @default - Prometheus's global scrape interval
   */
  readonly scrapeInterval?: string;
  /**
   * Namespace Prometheus runs in: the runtime's NetworkPolicies let it reach the dataflow's and
   * the inference servers' metrics ports (the other components' are open to every namespace).
   * @default 'monitoring'
   */
  readonly prometheusNamespace?: string;
  /**
   * The Grafana dashboard, as a ConfigMap Grafana's dashboard sidecar picks up.
   * @default true
   */
  readonly dashboard?: boolean;
  /**
   * Labels the Grafana sidecar selects dashboard ConfigMaps by.
   * @default { grafana_dashboard: '1' }
   */
  readonly dashboardLabels?: Record<string, string>;
}

/** The metrics endpoint of each component: its pods' component label and named port. */
const ENDPOINTS: readonly { id: string; component: string; ports: readonly string[] }[] = [
  { id: 'Scheduler', component: 'scheduler', ports: ['health'] },
  { id: 'Gateway', component: 'gateway', ports: ['http'] },
  { id: 'Dataflow', component: 'dataflow', ports: ['http'] },
  // The inference server's own metrics (MLServer, Triton) beside the agent's.
  { id: 'Servers', component: 'server', ports: ['agent-admin', 'server-metrics'] },
];

/** The monitoring objects of the runtime named `name` (the instance label of its pods). */
export function addRuntimeMonitoring(
  scope: Construct,
  name: string,
  settings: MonitoringSettings,
  has: { dataflow: boolean },
): void {
  const root = new Construct(scope, 'Monitoring');
  if (settings.podMonitors ?? true) {
    for (const e of ENDPOINTS) {
      if (e.component === 'dataflow' && !has.dataflow) continue;
      new ApiObject(root, e.id, {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PodMonitor',
        metadata: {
          name: `${name}-${e.component}`,
          ...(settings.monitorLabels ? { labels: settings.monitorLabels } : {}),
        },
        spec: {
          selector: { matchLabels: selectorLabels(e.component, name) },
          podMetricsEndpoints: e.ports.map((port) => ({
            port,
            path: '/metrics',
            ...(settings.scrapeInterval ? { interval: settings.scrapeInterval } : {}),
          })),
        },
      });
    }
    scrapePolicy(root, name, settings.prometheusNamespace ?? 'monitoring', has.dataflow);
  }
  if (settings.dashboard ?? true) {
    new k8s.KubeConfigMap(root, 'Dashboard', {
      metadata: { name: `${name}-dashboard`, labels: settings.dashboardLabels ?? { grafana_dashboard: '1' } },
      data: {
        [`${name}-runtime.json`]: JSON.stringify(
          grafanaDashboard({ title: `ML serving (${name})`, uid: `${name}-runtime` }),
          null,
          2,
        ),
      },
    });
  }
}

/** Lets Prometheus's namespace reach the metrics ports the runtime's policies do not open. */
function scrapePolicy(scope: Construct, name: string, namespace: string, dataflow: boolean): void {
  const from = [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } }];
  const tcp = (...ports: number[]) =>
    ports.map((port) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) }));
  const allow = (id: string, component: string, ports: number[]) =>
    new k8s.KubeNetworkPolicy(scope, id, {
      metadata: { name: `${name}-${component}-scrape` },
      spec: {
        podSelector: { matchLabels: selectorLabels(component, name) },
        policyTypes: ['Ingress'],
        ingress: [{ from, ports: tcp(...ports) }],
      },
    });
  allow('ServerScrape', 'server', [PORTS.mlserverMetrics, PORTS.tritonMetrics]);
  if (dataflow) allow('DataflowScrape', 'dataflow', [PORTS.dataflowHttp]);
}
