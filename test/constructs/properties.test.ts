/**
 * Property: any app built from valid random props synthesizes without findings, and every
 * object it emits passes our CRD schemas strictly (no undeclared field).
 */
import { App, Size } from 'cdk8s';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Environment } from '../../src/constructs/environment.ts';
import { Experiment } from '../../src/constructs/experiment.ts';
import { Model } from '../../src/constructs/model.ts';
import { JoinType, Pipeline, type PipelineStep } from '../../src/constructs/pipeline.ts';
import { Server } from '../../src/constructs/server.ts';
import { ServerConfig } from '../../src/constructs/server-config.ts';
import { collectFindings } from '../../src/constructs/validation.ts';
import { validateAgainstCrd } from '../../src/spec/crd-check.ts';
import type { MlopsKind } from '../../src/spec/types.ts';

const label = fc.stringMatching(/^[a-z]([-a-z0-9]{0,10}[a-z0-9])?$/);
const tensor = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,8}$/);
const joinType = fc.constantFrom(JoinType.INNER, JoinType.OUTER, JoinType.ANY);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
// Small enough that all models fit the fleet together: 6 models × 2 replicas × 160Mi ≤ 2 × 1024Mi.
const memoryText = fc.oneof(
  fc.integer({ min: 1, max: 160 }).map((n) => `${n}Mi`),
  fc.integer({ min: 1, max: 160 }).map((n) => `${n}M`),
  fc.integer({ min: 1, max: 1000 }).map((n) => `${n}Ki`),
);

/** minReplicas ≤ replicas ≤ maxReplicas, each maybe unset, replicas up to `most`. */
const scaling = (most: number) =>
  fc
    .record({
      min: fc.integer({ min: 0, max: most }),
      extra: fc.integer({ min: 0, max: most }),
      spread: fc.integer({ min: 0, max: 3 }),
    })
    .chain(({ min, extra, spread }) =>
      fc.record({
        minReplicas: maybe(fc.constant(min)),
        replicas: maybe(fc.constant(Math.min(min + extra, most))),
        maxReplicas: maybe(fc.constant(Math.min(min + extra, most) + spread)),
      }),
    )
    .filter((s) => (s.minReplicas ?? 0) <= (s.replicas ?? Number.POSITIVE_INFINITY))
    .map((s) => (s.maxReplicas === 0 ? { ...s, maxReplicas: undefined } : s));

// A server replica hosts one replica of a model: servers run at least 2 replicas, models need at most 2.
const serverScaling = scaling(4).map((s) => {
  const replicas = Math.max(2, s.replicas ?? 2, s.minReplicas ?? 0);
  return {
    ...s,
    replicas,
    maxReplicas: s.maxReplicas === undefined ? undefined : Math.max(s.maxReplicas, replicas),
  };
});

const modelProps = fc.record({
  memory: maybe(memoryText),
  scaling: scaling(2),
  artifactVersion: maybe(fc.nat(5)),
  logger: maybe(fc.record({ percent: maybe(fc.integer({ min: 0, max: 100 })) })),
  cleanTopicsOnDelete: maybe(fc.boolean()),
  parameters: maybe(fc.dictionary(label, fc.string({ maxLength: 8 }), { maxKeys: 3 })),
  pin: fc.boolean(),
});

const appSpec = fc.record({
  namespaces: fc.uniqueArray(label, { minLength: 1, maxLength: 2 }),
  models: fc.uniqueArray(fc.tuple(label, modelProps), { minLength: 2, maxLength: 6, selector: ([n]) => n }),
  serverMemoryMi: fc.integer({ min: 1024, max: 4096 }),
  overCommit: maybe(fc.integer({ min: 0, max: 50 })),
  serverScaling,
  // Each step i reads from steps before it (no cycles), chosen by these seeds.
  stepSeeds: fc.array(
    fc.record({
      inputs: fc.array(fc.nat(), { maxLength: 2 }),
      trigger: maybe(fc.nat()),
      tensor,
      join: maybe(joinType),
      window: maybe(fc.nat(10_000)),
    }),
    {
      minLength: 1,
      maxLength: 5,
    },
  ),
  weights: fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 3 }),
  mirrorPercent: maybe(fc.integer({ min: 0, max: 100 })),
  withDefault: fc.boolean(),
});

type AppSpec = typeof appSpec extends fc.Arbitrary<infer T> ? T : never;

function build(spec: AppSpec): App {
  const app = new App({ outdir: 'unused' });
  for (const ns of spec.namespaces) {
    const env = new Environment(app, ns, { namespace: ns, createNamespace: false });
    const server = new Server(env, 'mlserver', {
      serverConfig: ServerConfig.MLSERVER,
      memory: Size.mebibytes(spec.serverMemoryMi),
      overCommitPercentage: spec.overCommit,
      ...spec.serverScaling,
    });
    const models = spec.models
      // Construct ids of the other objects of the app.
      .filter(([name]) => !['mlserver', 'flow', 'ab'].includes(name))
      .map(
        ([name, p]) =>
          new Model(env, name, {
            storageUri: `gs://bucket/${name}`,
            requirements: ['sklearn'],
            memory: p.memory,
            artifactVersion: p.artifactVersion,
            logger: p.logger,
            cleanTopicsOnDelete: p.cleanTopicsOnDelete,
            parameters: p.parameters,
            server: p.pin ? server : undefined,
            ...p.scaling,
          }),
      );
    if (models.length < 2) continue;
    const pipeline = new Pipeline(env, 'flow', { output: { steps: [models[0]] } });
    const used = spec.stepSeeds.slice(0, models.length);
    used.forEach((seed, i) => {
      const model = models[i];
      const earlier = models.slice(0, i);
      const step: Omit<PipelineStep, 'model'> = {
        inputs:
          i === 0
            ? [pipeline.inputs(seed.tensor)]
            : [...new Set(seed.inputs.map((n) => earlier[n % i]))].map((m) => m.outputs(seed.tensor)),
        inputsJoinType: seed.join,
        joinWindowMs: seed.window,
        triggers: i === 0 || seed.trigger === undefined ? undefined : [pipeline.inputs('trigger')],
      };
      pipeline.addStep(model, step);
    });
    const candidates = spec.weights
      .slice(0, models.length)
      .map((weight, i) => ({ target: models[i], weight }));
    const mirrorTarget = models[candidates.length];
    new Experiment(env, 'ab', {
      candidates,
      default: spec.withDefault ? candidates[0].target : undefined,
      mirror:
        mirrorTarget && spec.mirrorPercent !== undefined
          ? { target: mirrorTarget, percent: spec.mirrorPercent }
          : undefined,
    });
  }
  return app;
}

describe('random valid apps', () => {
  it('synthesize without findings into objects that pass the CRD schemas strictly', () => {
    fc.assert(
      fc.property(appSpec, (spec) => {
        const app = build(spec);
        expect(collectFindings(app)).toEqual([]);
        const objects = app.charts.flatMap((c) => c.toJson()) as {
          kind: MlopsKind;
          metadata: { name: string };
        }[];
        expect(objects.length).toBeGreaterThan(0);
        for (const o of objects) expect(validateAgainstCrd(o), `${o.kind} ${o.metadata.name}`).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });

  it('synthesize deterministically', () => {
    fc.assert(
      fc.property(appSpec, (spec) => {
        expect(build(spec).synthYaml()).toBe(build(spec).synthYaml());
      }),
      { numRuns: 30 },
    );
  });
});
