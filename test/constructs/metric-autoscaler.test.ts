import { App } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Environment } from '../../src/constructs/environment.ts';
import { MetricAutoscaler, type MetricAutoscalerProps } from '../../src/constructs/metric-autoscaler.ts';
import { Model, type ModelProps } from '../../src/constructs/model.ts';
import { Server } from '../../src/constructs/server.ts';
import { ServerConfig } from '../../src/constructs/server-config.ts';
import { checkSchemas } from '../../src/synth/check/schemas.ts';
import { synthesizeObjects } from '../../src/synth/synthesize.ts';
import { type Json, problems } from './helpers.ts';

function app(modelProps: Partial<ModelProps> = { replicas: 1 }) {
  const a = new App({ outdir: 'unused' });
  const env = new Environment(a, 'prod', { namespace: 'prod', createNamespace: false });
  const server = new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER, replicas: 1 });
  const iris = new Model(env, 'iris', {
    storageUri: 'gs://m/iris',
    requirements: ['sklearn'],
    ...modelProps,
  });
  return { app: a, env, server, iris };
}

const objects = (a: App) => synthesizeObjects(a).map((o) => o.manifest as Json);

describe('MetricAutoscaler', () => {
  it("scales a Model on Seldon's infer_rps through its scale subresource, with the adapter rule serving it", () => {
    const { app: a, env, iris } = app();
    new MetricAutoscaler(env, 'iris-scaling', { target: iris, targetValue: 20, maxReplicas: 5 });
    expect(problems(a)).toEqual([]);
    const out = objects(a);
    const hpa = out.find((o) => o.kind === 'HorizontalPodAutoscaler');
    const ref = { apiVersion: 'mlops.seldon.io/v1alpha1', kind: 'Model', name: 'iris' };
    expect(hpa).toMatchObject({
      apiVersion: 'autoscaling/v2',
      metadata: { name: 'iris-autoscaler', namespace: 'prod' },
      spec: {
        scaleTargetRef: ref,
        minReplicas: 1,
        maxReplicas: 5,
        metrics: [
          {
            type: 'Object',
            object: {
              describedObject: ref,
              metric: { name: 'infer_rps' },
              target: { type: 'AverageValue', averageValue: '20' },
            },
          },
        ],
      },
    });
    const cm = out.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'prometheus-adapter-rules');
    const { rules } = parse(cm.data['config.yaml']);
    expect(rules).toEqual([
      {
        seriesQuery: 'seldon_model_infer_total{namespace!=""}',
        resources: {
          overrides: {
            namespace: { resource: 'namespace' },
            model: { group: 'mlops.seldon.io', resource: 'models' },
            server: { group: 'mlops.seldon.io', resource: 'servers' },
          },
        },
        name: { matches: '^seldon_model_infer_total$', as: 'infer_rps' },
        metricsQuery: 'sum by (<<.GroupBy>>) (rate(<<.Series>>{<<.LabelMatchers>>}[1m]))',
      },
    ]);
    expect(checkSchemas(out.map((object, i) => ({ object, file: `${i}.yaml` })))).toEqual([]);
  });

  it('scales a Server on latency as a plain value, and shares one rule per metric across autoscalers', () => {
    const { app: a, env, server, iris } = app();
    new MetricAutoscaler(env, 'server-latency', {
      target: server,
      metric: 'inferLatency',
      targetValue: 0.25,
      minReplicas: 2,
      maxReplicas: 4,
    });
    new MetricAutoscaler(env, 'iris-latency', {
      target: iris,
      metric: 'inferLatency',
      targetValue: 0.5,
      maxReplicas: 2,
    });
    new MetricAutoscaler(env, 'iris-rate', {
      target: Model.fromName(env, 'other', 'other'),
      metric: { rateOf: 'seldon_model_infer_total' },
      targetValue: 3,
      maxReplicas: 2,
    });
    expect(problems(a)).toEqual([]);
    const out = objects(a);
    const hpa = out.find((o) => o.metadata.name === 'mlserver-autoscaler');
    expect(hpa.spec.scaleTargetRef.kind).toBe('Server');
    expect(hpa.spec.metrics[0].object.target).toEqual({ type: 'Value', value: '250m' });
    const { rules } = parse(
      out.find((o) => o.metadata.name === 'prometheus-adapter-rules').data['config.yaml'],
    );
    expect(rules.map((r: Json) => r.name.as)).toEqual([
      'infer_latency_seconds',
      'seldon_model_infer_per_second',
    ]);
    expect(rules[0].metricsQuery).toBe(
      'sum by (<<.GroupBy>>) (rate(seldon_model_infer_seconds_total{<<.LabelMatchers>>}[1m])) / sum by (<<.GroupBy>>) (rate(seldon_model_infer_total{<<.LabelMatchers>>}[1m]))',
    );
  });

  it('reports bad bounds, unknown or unusable metrics, and targets an HPA cannot drive', () => {
    const { app: a, env, server } = app({ minReplicas: 1, maxReplicas: 3 });
    const iris = env.node.findChild('iris') as Model;
    const add = (id: string, p: Partial<MetricAutoscalerProps>) =>
      new MetricAutoscaler(env, id, {
        target: server,
        targetValue: 1,
        maxReplicas: 2,
        ...p,
      } as MetricAutoscalerProps);
    add('bounds', { minReplicas: 4, maxReplicas: 3, targetValue: 0 });
    add('unknown', { metric: { rateOf: 'seldon_model_infer_seconds' } });
    add('gauge', { metric: { rateOf: 'seldon_loaded_model_gauge' } });
    add('no-label', { metric: { rateOf: 'mlops_modelgateway_calls_total' } });
    add('native', { target: iris });
    add('twice', { target: iris });
    const noReplicas = new Model(env, 'bare', { storageUri: 'gs://m/bare', requirements: ['sklearn'] });
    add('bare-scaling', { target: noReplicas });
    add('pipeline', { target: { kind: 'Pipeline', name: 'p' } as never });
    const elsewhere = new Environment(a, 'staging', { namespace: 'staging', createNamespace: false });
    add('cross', { target: Model.fromName(elsewhere, 'far', 'far') });
    expect(problems(a)).toEqual(
      expect.arrayContaining([
        'prod/bounds minReplicas: is above maxReplicas (3)',
        'prod/bounds targetValue: must be a number above 0',
        'prod/unknown metric: names "seldon_model_infer_seconds", which is not a metric the runtime exports',
        'prod/gauge metric: names "seldon_loaded_model_gauge", a gauge: only a counter has a rate',
        'prod/no-label metric: names "mlops_modelgateway_calls_total", which has no "server" label to tell one Server\'s series from another\'s',
        expect.stringMatching(/^prod\/native target: declares minReplicas\/maxReplicas/),
        expect.stringMatching(/^prod\/native target: is also scaled by prod\/twice/),
        expect.stringMatching(/^prod\/bare-scaling target: declares no replicas/),
        'prod/pipeline target: is not a Model or a Server (only they have a scale subresource)',
        'prod/cross target: is in namespace "staging", and an autoscaler scales objects of its own namespace ("prod") only',
      ]),
    );
  });
});
