// The autoscaling and monitoring objects synthesis emits, on a real control plane: the
// kube-apiserver accepts them under strict field validation (the PodMonitors against a CRD made
// from the schema `mlops validate` ships), and the HPA controller of kube-controller-manager
// drives a Model through its `scale` subresource, stopping only at the custom metric, which no
// adapter serves here.
import { App } from 'cdk8s';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Environment } from '../../src/constructs/environment.ts';
import { MetricAutoscaler } from '../../src/constructs/metric-autoscaler.ts';
import { Model } from '../../src/constructs/model.ts';
import { Runtime } from '../../src/constructs/runtime.ts';
import { Server } from '../../src/constructs/server.ts';
import { ServerConfig } from '../../src/constructs/server-config.ts';
import { customResourceDefinitions } from '../../src/spec/crd-schemas.ts';
import { THIRD_PARTY_SCHEMAS } from '../../src/spec/third-party-schemas.ts';
import { synthesizeObjects } from '../../src/synth/synthesize.ts';
import {
  type ApplyObject,
  applyCrds,
  type KubeCluster,
  pollUntil,
  serverSideApply,
  startKubeCluster,
} from './harness/index.ts';
import { describeE2E } from './harness/toolchain.ts';

const NS = 'scaled';

function synthesized(): ApplyObject[] {
  const app = new App({ outdir: 'unused' });
  const env = new Environment(app, NS, { namespace: NS });
  new Runtime(env, 'runtime', { monitoring: { monitorLabels: { release: 'kps' } } });
  const server = new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER, replicas: 1 });
  const iris = new Model(env, 'iris', {
    storageUri: 'gs://m/iris',
    requirements: ['sklearn'],
    server,
    replicas: 1,
  });
  new MetricAutoscaler(env, 'iris-rate', { target: iris, targetValue: 5, maxReplicas: 3 });
  new MetricAutoscaler(env, 'server-latency', {
    target: server,
    metric: 'inferLatency',
    targetValue: 0.25,
    maxReplicas: 2,
  });
  return synthesizeObjects(app).map((o) => o.manifest as unknown as ApplyObject);
}

/** A CustomResourceDefinition for PodMonitor made from the schema we ship. */
function podMonitorCrd(): ApplyObject {
  const s = THIRD_PARTY_SCHEMAS.find((t) => t.kind === 'PodMonitor');
  if (!s) throw new Error('no PodMonitor schema');
  const schema = s.schema as { properties: Record<string, unknown> };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'podmonitors.monitoring.coreos.com' },
    spec: {
      group: 'monitoring.coreos.com',
      scope: 'Namespaced',
      names: {
        kind: 'PodMonitor',
        plural: 'podmonitors',
        singular: 'podmonitor',
        listKind: 'PodMonitorList',
      },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              ...schema,
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                ...schema.properties,
              },
            },
          },
        },
      ],
    },
  };
}

interface Hpa {
  status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
}

describeE2E('metric autoscaling objects on a real control plane', ['go'], () => {
  let cluster: KubeCluster;
  let objects: ApplyObject[];

  beforeAll(async () => {
    objects = synthesized();
    cluster = await startKubeCluster([{ name: 'kwok-a' }]);
    await applyCrds(cluster, [...(customResourceDefinitions() as unknown as ApplyObject[]), podMonitorCrd()]);
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('accepts every HPA, the adapter rules, the dashboard and the PodMonitors, and the HPA controller scales the Model', async () => {
    const wanted = objects.filter(
      (o) =>
        ['Namespace', 'Model', 'Server', 'HorizontalPodAutoscaler', 'PodMonitor'].includes(o.kind) ||
        (o.kind === 'ConfigMap' && ['prometheus-adapter-rules', 'mlops-dashboard'].includes(o.metadata.name)),
    );
    expect(wanted.filter((o) => o.kind === 'HorizontalPodAutoscaler')).toHaveLength(3); // two ours, the gateway's
    expect(wanted.filter((o) => o.kind === 'PodMonitor')).toHaveLength(3);
    for (const o of wanted) await serverSideApply(cluster, o);

    // The scheduler would write the scale's status; here the test does.
    const patch = await cluster.kubectl([
      'patch',
      'model',
      'iris',
      '-n',
      NS,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { replicas: 1, selector: 'server=mlserver' } }),
    ]);
    expect(patch.code, patch.stderr).toBe(0);
    const conditions = await pollUntil(
      'the HPA controller to evaluate iris-autoscaler',
      async () => {
        const r = await cluster.kubectl(['get', 'hpa', 'iris-autoscaler', '-n', NS, '-o', 'json']);
        const c = (JSON.parse(r.stdout) as Hpa).status?.conditions ?? [];
        return c.some((x) => x.type === 'ScalingActive') && c;
      },
      { timeoutMs: 60_000, intervalMs: 1000, logs: [`${cluster.logDir}/kube-controller-manager.log`] },
    );
    const by = Object.fromEntries(conditions.map((c) => [c.type, c]));
    // It read the Model's scale subresource...
    expect(by.AbleToScale).toMatchObject({ status: 'True', reason: 'SucceededGetScale' });
    // ...and asked the custom metrics API for the Model's infer_rps, which nothing serves here.
    expect(by.ScalingActive).toMatchObject({ status: 'False', reason: 'FailedGetObjectMetric' });
    expect(by.ScalingActive.message).toContain('infer_rps');
  }, 120_000);
});
