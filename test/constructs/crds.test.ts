import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { MlopsCrds } from '../../src/constructs/crds.ts';
import { validateAgainstCrd } from '../../src/spec/crd-check.ts';
import { customResourceDefinitions, strictSchema } from '../../src/spec/crd-schemas.ts';
import type { MlopsKind } from '../../src/spec/types.ts';
import type { Json } from './helpers.ts';

const obj = (kind: MlopsKind, spec: unknown, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'mlops.seldon.io/v1alpha1',
  kind,
  metadata: { name: 'x', namespace: 'ns' },
  spec,
  ...extra,
});

const messages = (o: { kind: MlopsKind }) => validateAgainstCrd(o).map((v) => `${v.pointer} ${v.message}`);

describe('customResourceDefinitions', () => {
  it('declares the five kinds with the upstream names, short names, scope and subresources', () => {
    const crds = customResourceDefinitions() as Json[];
    expect(crds.map((c) => c.metadata.name)).toEqual([
      'models.mlops.seldon.io',
      'servers.mlops.seldon.io',
      'serverconfigs.mlops.seldon.io',
      'pipelines.mlops.seldon.io',
      'experiments.mlops.seldon.io',
    ]);
    expect(crds.map((c) => c.spec.names.shortNames[0])).toEqual(['mlm', 'mls', 'mlc', 'mlp', 'mlx']);
    for (const crd of crds) {
      expect(crd.apiVersion).toBe('apiextensions.k8s.io/v1');
      expect(crd.spec.scope).toBe('Namespaced');
      expect(crd.spec.group).toBe('mlops.seldon.io');
      expect(crd.spec.versions).toHaveLength(1);
      expect(crd.spec.versions[0]).toMatchObject({ name: 'v1alpha1', served: true, storage: true });
      expect(crd.spec.names.listKind).toBe(`${crd.spec.names.kind}List`);
    }
    const scaled = crds.filter((c) => c.spec.versions[0].subresources.scale).map((c) => c.spec.names.kind);
    expect(scaled).toEqual(['Model', 'Server']);
    const pipelineCols = crds[3].spec.versions[0].additionalPrinterColumns.map((c: Json) => c.name);
    expect(pipelineCols).toEqual([
      'Pipeline ready',
      'Models ready',
      'PipelineGw ready',
      'Dataflow ready',
      'Message',
      'Age',
    ]);
  });

  it('is a structural schema: every object schema is typed', () => {
    const untyped: string[] = [];
    const walk = (s: Json, path: string) => {
      if (!s || typeof s !== 'object') return;
      if (!s.type && !s.anyOf && !s['x-kubernetes-int-or-string']) untyped.push(path);
      for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${path}.${k}`);
      if (s.items) walk(s.items, `${path}[]`);
      if (s.additionalProperties && typeof s.additionalProperties === 'object')
        walk(s.additionalProperties, `${path}{}`);
    };
    for (const crd of customResourceDefinitions() as Json[])
      walk(crd.spec.versions[0].schema.openAPIV3Schema, crd.spec.names.kind);
    expect(untyped).toEqual([]);
  });

  it('MlopsCrds adds the five CRDs to a chart', () => {
    const chart = Testing.chart();
    new MlopsCrds(chart, 'crds');
    const out = Testing.synth(chart);
    expect(out.map((o) => o.kind)).toEqual(Array(5).fill('CustomResourceDefinition'));
    expect(out[0].metadata.name).toBe('models.mlops.seldon.io');
  });
});

describe('strictSchema', () => {
  it('closes objects with properties but not preserve-unknown ones, and keeps property names intact', () => {
    const s = strictSchema({
      type: 'object',
      properties: {
        default: { type: 'object', properties: { a: { type: 'string' } } },
        open: {
          type: 'object',
          properties: { b: { type: 'string' } },
          'x-kubernetes-preserve-unknown-fields': true,
        },
      },
    }) as Json;
    expect(s.additionalProperties).toBe(false);
    expect(s.properties.default.additionalProperties).toBe(false);
    expect(s.properties.open.additionalProperties).toBeUndefined();
  });
});

describe('validateAgainstCrd', () => {
  it('accepts a complete model', () => {
    const model = obj('Model', {
      storageUri: 'gs://bucket/iris',
      artifactVersion: 2,
      modelType: 'sklearn',
      schemaUri: 'gs://bucket/schema.json',
      secretName: 'creds',
      requirements: ['sklearn'],
      memory: '100Ki',
      replicas: 2,
      minReplicas: 1,
      maxReplicas: 3,
      server: 'mlserver',
      preloaded: false,
      dedicated: true,
      logger: { percent: 10 },
      explainer: { type: 'anchor_tabular', modelRef: 'income' },
      parameters: [{ name: 'a', value: 'b' }],
      dataflow: { cleanTopicsOnDelete: true },
    });
    expect(messages(model)).toEqual([]);
  });

  it('rejects undeclared fields at every declared level', () => {
    expect(messages(obj('Model', { storageUri: 's', memroy: '1Gi' }))).toEqual([
      "/spec must NOT have additional properties 'memroy'",
    ]);
    expect(messages(obj('Pipeline', { steps: [{ name: 'a', input: ['b'] }] }))).toEqual([
      "/spec/steps/0 must NOT have additional properties 'input'",
    ]);
    expect(
      messages(
        obj('Server', { serverConfig: 'mlserver', podSpec: { containers: [{ name: 'a', imag: 'x' }] } }),
      ),
    ).toEqual(["/spec/podSpec/containers/0 must NOT have additional properties 'imag'"]);
    expect(messages(obj('Experiment', { candidates: [] }, { extra: 1 }))).toEqual([
      "/ must NOT have additional properties 'extra'",
    ]);
  });

  it('accepts free-form content inside preserved Kubernetes structures', () => {
    const server = obj('Server', {
      serverConfig: 'triton',
      podSpec: {
        affinity: { nodeAffinity: { anything: [1, 2] } },
        containers: [
          {
            name: 'triton',
            resources: { limits: { memory: '3Gi', 'nvidia.com/gpu': 1 }, requests: { memory: '3Gi' } },
            env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          },
        ],
      },
      statefulSetPersistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
      deploymentStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
    });
    expect(messages(server)).toEqual([]);
  });

  it('rejects Server pod spec fields that only full pod specs have', () => {
    expect(messages(obj('Server', { serverConfig: 'm', podSpec: { os: { name: 'linux' } } }))).toEqual([
      "/spec/podSpec must NOT have additional properties 'os'",
    ]);
    expect(
      messages(obj('ServerConfig', { podSpec: { containers: [{ name: 'a' }], os: { name: 'linux' } } })),
    ).toEqual([]);
  });

  it('checks required fields, enums, quantities and integer ranges', () => {
    expect(messages(obj('Model', {}))).toEqual(["/spec must have required property 'storageUri'"]);
    expect(messages(obj('ServerConfig', { podSpec: {} }))).toEqual([
      "/spec/podSpec must have required property 'containers'",
    ]);
    expect(messages(obj('Pipeline', { steps: [{ name: 'a', inputsJoinType: 'left' }] }))).toEqual([
      '/spec/steps/0/inputsJoinType must be equal to one of the allowed values',
    ]);
    expect(messages(obj('Model', { storageUri: 's', memory: '12 GB' }))).toEqual([
      '/spec/memory must match pattern "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$"',
    ]);
    expect(messages(obj('Model', { storageUri: 's', memory: 1024 }))).toEqual([]);
    expect(messages(obj('Model', { storageUri: 's', replicas: 2 ** 31 }))).toEqual([
      '/spec/replicas must match format "int32"',
    ]);
    expect(messages(obj('Experiment', { candidates: [{ name: 'a' }] }))).toEqual([
      "/spec/candidates/0 must have required property 'weight'",
    ]);
  });
});
