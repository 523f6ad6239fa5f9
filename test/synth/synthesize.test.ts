import { ApiObject, App, Chart, JsonPatch } from 'cdk8s';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { Environment } from '../../src/constructs/environment.ts';
import { Experiment } from '../../src/constructs/experiment.ts';
import { Model } from '../../src/constructs/model.ts';
import { Pipeline } from '../../src/constructs/pipeline.ts';
import { Server } from '../../src/constructs/server.ts';
import { ServerConfig } from '../../src/constructs/server-config.ts';
import { addProblem } from '../../src/constructs/validation.ts';
import { validateAgainstCrd } from '../../src/spec/crd-check.ts';
import { SynthError, synthesizeApp, synthesizeObjects } from '../../src/synth/synthesize.ts';

function model(chart: Chart, name: string, spec: Record<string, unknown> = { storageUri: 'gs://m' }) {
  return new ApiObject(chart, name, {
    apiVersion: 'mlops.seldon.io/v1alpha1',
    kind: 'Model',
    metadata: { name },
    spec,
  });
}

/** A small app built the same way every time; `order` flips the order objects are declared in. */
function buildApp(order: 'forward' | 'backward' = 'forward'): App {
  const app = new App();
  const chart = new Chart(app, 'prod', { namespace: 'prod', labels: { team: 'ml' } });
  const declare = [
    () => model(chart, 'iris', { storageUri: 'gs://iris', memory: '100Ki', requirements: ['sklearn'] }),
    () => model(chart, 'wine'),
    () =>
      new ApiObject(chart, 'cfg', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'cfg' },
        data: { b: '2', a: '1' },
      }),
    () =>
      new ApiObject(chart, 'ns', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'prod', namespace: undefined },
      }),
  ];
  for (const d of order === 'forward' ? declare : [...declare].reverse()) d();
  return app;
}

describe('synthesizeApp', () => {
  it('gives identical bytes for the same app, whatever the declaration order', () => {
    const a = synthesizeApp(buildApp('forward'));
    const b = synthesizeApp(buildApp('forward'));
    const c = synthesizeApp(buildApp('backward'));
    expect([...a]).toEqual([...b]);
    expect([...a]).toEqual([...c]);
  });

  it('writes one file per object named by group, kind, namespace and name, CRDs and Namespaces first', () => {
    const files = synthesizeApp(buildApp());
    expect([...files.keys()]).toEqual([
      '00-crds.yaml',
      '00-namespaces.yaml',
      'core_ConfigMap_prod_cfg.yaml',
      'mlops.seldon.io_Model_prod_iris.yaml',
      'mlops.seldon.io_Model_prod_wine.yaml',
    ]);
    const iris = parse(files.get('mlops.seldon.io_Model_prod_iris.yaml') as string);
    expect(iris).toEqual({
      apiVersion: 'mlops.seldon.io/v1alpha1',
      kind: 'Model',
      metadata: { name: 'iris', namespace: 'prod', labels: { team: 'ml' } },
      spec: { storageUri: 'gs://iris', memory: '100Ki', requirements: ['sklearn'] },
    });
  });

  it('puts the CRDs of the five kinds in one file, sorted by name', () => {
    const docs = parseAllDocuments(synthesizeApp(buildApp()).get('00-crds.yaml') as string).map((d) =>
      d.toJSON(),
    );
    expect(docs.map((d) => d.kind)).toEqual(Array(5).fill('CustomResourceDefinition'));
    const names = docs.map((d) => d.metadata.name);
    expect(names).toEqual([...names].sort());
    expect(names).toContain('models.mlops.seldon.io');
  });

  it('keeps a CRD the app declares itself instead of ours', () => {
    const app = buildApp();
    const own = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'models.mlops.seldon.io' },
      spec: {
        group: 'mine',
        names: { kind: 'Model', plural: 'models' },
        scope: 'Namespaced',
        versions: [{ name: 'v1', served: true, storage: true }],
      },
    };
    new ApiObject(Chart.of(app.node.findChild('prod')), 'crd', own);
    const docs = parseAllDocuments(synthesizeApp(app).get('00-crds.yaml') as string).map((d) => d.toJSON());
    expect(docs).toHaveLength(5);
    expect(docs.find((d) => d.metadata.name === 'models.mlops.seldon.io').spec).toEqual(own.spec);
  });

  it('the seldon target keeps only mlops.seldon.io resources and no CRDs', () => {
    const files = synthesizeApp(buildApp(), { target: 'seldon' });
    expect([...files.keys()]).toEqual([
      'mlops.seldon.io_Model_prod_iris.yaml',
      'mlops.seldon.io_Model_prod_wine.yaml',
    ]);
  });

  it('drops the hash cdk8s appends to names it generates, and keeps declared names', () => {
    const app = new App();
    const chart = new Chart(app, 'prod');
    const holder = new Construct(chart, 'web');
    new ApiObject(holder, 'Resource', { apiVersion: 'v1', kind: 'Service' });
    new ApiObject(chart, 'kept', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'exact-name-c8aaaaaa' },
    });
    const names = synthesizeObjects(app, { target: 'runtime' })
      .filter((o) => o.manifest.kind === 'Service')
      .map((o) => o.manifest.metadata.name);
    expect(names).toEqual(['prod-web', 'exact-name-c8aaaaaa']);
  });
});

/** An app using the construct library: servers, models, a pipeline and an experiment. */
function constructApp(): App {
  const app = new App();
  const env = new Environment(app, 'prod', { namespace: 'prod' });
  const server = new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER, replicas: 2 });
  const iris = new Model(env, 'iris', { storageUri: 'gs://m/iris', requirements: ['sklearn'], server });
  const wine = new Model(env, 'wine', { storageUri: 'gs://m/wine', requirements: ['sklearn'] });
  new Pipeline(env, 'chain', {
    steps: [{ model: iris }, { model: wine, inputs: [iris] }],
    output: { steps: [wine] },
  });
  new Experiment(env, 'ab', {
    candidates: [
      { target: iris, weight: 90 },
      { target: wine, weight: 10 },
    ],
    default: iris,
  });
  return app;
}

describe('with the construct library', () => {
  it('is deterministic and writes one file per custom resource, each valid against the CRDs', () => {
    const files = synthesizeApp(constructApp());
    expect([...files]).toEqual([...synthesizeApp(constructApp())]);
    expect([...files.keys()]).toEqual([
      '00-crds.yaml',
      '00-namespaces.yaml',
      'mlops.seldon.io_Experiment_prod_ab.yaml',
      'mlops.seldon.io_Model_prod_iris.yaml',
      'mlops.seldon.io_Model_prod_wine.yaml',
      'mlops.seldon.io_Pipeline_prod_chain.yaml',
      'mlops.seldon.io_Server_prod_mlserver.yaml',
    ]);
    for (const [name, text] of files) {
      if (name.startsWith('00-')) continue;
      expect(validateAgainstCrd(parse(text)), name).toEqual([]);
    }
    const pipeline = parse(files.get('mlops.seldon.io_Pipeline_prod_chain.yaml') as string);
    expect(pipeline.metadata).toEqual({ name: 'chain', namespace: 'prod' });
    expect(Object.keys(pipeline)).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
  });
});

describe('errors', () => {
  it('reports every problem of the app together, with path, field, value and fix', () => {
    const app = buildApp();
    const chart = app.node.findChild('prod');
    addProblem(chart.node.findChild('iris'), {
      field: 'memory',
      value: '1XB',
      message: 'is not a quantity',
      fix: 'use e.g. 100Mi',
    });
    addProblem(chart.node.findChild('wine'), { field: 'replicas', value: -1, message: 'must be at least 0' });
    chart.node.findChild('cfg').node.addValidation({ validate: () => ['configmap is too large'] });
    let error: unknown;
    try {
      synthesizeApp(app);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SynthError);
    const { findings, message } = error as SynthError;
    expect(findings.map((f) => [f.path, f.field])).toEqual([
      ['prod/iris', 'memory'],
      ['prod/wine', 'replicas'],
      ['prod/cfg', '(construct)'],
    ]);
    expect(message).toContain('3 problems found');
    expect(message).toContain(
      'prod/iris\n  field:   memory\n  value:   "1XB"\n  problem: is not a quantity\n  fix:     use e.g. 100Mi',
    );
    expect(message).toContain('configmap is too large');
  });

  it('reports objects that cannot be rendered or lack a name, all at once', () => {
    const app = new App();
    const chart = new Chart(app, 'c');
    new ApiObject(chart, 'bad', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'bad' },
      data: { when: new Date(0) },
    });
    const unnamed = new ApiObject(chart, 'unnamed', { apiVersion: 'v1', kind: 'ConfigMap' });
    unnamed.addJsonPatch(JsonPatch.remove('/metadata/name'));
    const error = (() => {
      try {
        synthesizeApp(app);
      } catch (err) {
        return err as SynthError;
      }
    })();
    expect(error?.findings.map((f) => [f.path, f.field])).toEqual([
      ['c/bad', '(object)'],
      ['c/unnamed', 'metadata.name'],
    ]);
    expect(error?.findings[0].message).toMatch(/cannot be rendered: .*non-simple object of type 'Date'/);
  });

  it('refuses two objects that would share a file', () => {
    const app = new App();
    const a = new Chart(app, 'a', { namespace: 'prod' });
    const b = new Chart(app, 'b', { namespace: 'prod' });
    model(a, 'iris');
    model(b, 'iris');
    expect(() => synthesizeApp(app)).toThrow(/Model iris in namespace prod is also declared at a\/iris/);
  });
});
