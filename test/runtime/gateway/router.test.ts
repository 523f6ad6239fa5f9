import { describe, expect, it } from 'vitest';
import { parseRouteKey, Router, routeKeyFromPath, routeTokens } from '../../../src/runtime/gateway/router.ts';
import { OipError } from '../../../src/runtime/oip/errors.ts';
import { seeded, table } from './fixtures.ts';

const ep = (port: number) => [{ host: '127.0.0.1', httpPort: port, grpcPort: port + 1 }];

describe('route keys', () => {
  it('parses seldon-model values and paths', () => {
    expect(parseRouteKey('iris')).toEqual({ kind: 'model', name: 'iris' });
    expect(parseRouteKey('iris.model')).toEqual({ kind: 'model', name: 'iris' });
    expect(parseRouteKey('p1.pipeline')).toEqual({ kind: 'pipeline', name: 'p1' });
    expect(parseRouteKey('ab.experiment')).toEqual({ kind: 'experiment', name: 'ab' });
    expect(routeKeyFromPath('/v2/models/iris/infer')).toBe('iris');
    expect(routeKeyFromPath('/v2/models/iris/versions/2/ready')).toBe('iris');
    expect(routeKeyFromPath('/v2/pipelines/p1/infer')).toBe('p1.pipeline');
    expect(routeKeyFromPath('/v2/health/live')).toBeUndefined();
  });

  it('reads sticky route tokens', () => {
    expect(routeTokens(':iris_3::p.pipeline:')).toEqual([{ name: 'iris', version: 3 }, { name: 'p' }]);
  });
});

describe('Router', () => {
  it('routes a model to its ready version and tags the route', () => {
    const r = new Router(table({ models: { iris: ep(1000) } }));
    const res = r.resolve('iris');
    expect(res.target).toMatchObject({ kind: 'model', name: 'iris', version: 1 });
    expect(res.route).toBe(':iris_1:');
    expect(res.mirror).toBeUndefined();
  });

  it('answers 404 naming an unknown model, pipeline or experiment', () => {
    const r = new Router(table({ models: { iris: ep(1000) } }));
    for (const key of ['nope', 'nope.pipeline', 'nope.experiment']) {
      try {
        r.resolve(key);
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(OipError);
        expect((err as OipError).status).toBe(404);
        expect((err as OipError).message).toContain('"nope"');
      }
    }
  });

  it('splits 10,000 requests within 2% of the weights', () => {
    const routes = table({
      models: { a: ep(1000), b: ep(2000), c: ep(3000) },
      experiments: [
        {
          name: 'abc',
          candidates: [
            { name: 'a', weight: 60 },
            { name: 'b', weight: 30 },
            { name: 'c', weight: 10 },
          ],
        },
      ],
    });
    const r = new Router(routes, seeded(42));
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 10_000; i++) {
      const t = r.resolve('abc.experiment').target;
      counts[t.name]++;
    }
    expect(Math.abs(counts.a / 10_000 - 0.6)).toBeLessThan(0.02);
    expect(Math.abs(counts.b / 10_000 - 0.3)).toBeLessThan(0.02);
    expect(Math.abs(counts.c / 10_000 - 0.1)).toBeLessThan(0.02);
  });

  it('lets the default candidate take over the model route; other models stay direct', () => {
    const routes = table({
      models: { a: ep(1000), b: ep(2000), other: ep(3000) },
      experiments: [
        {
          name: 'ab',
          default: 'a',
          candidates: [
            { name: 'a', weight: 1 },
            { name: 'b', weight: 1 },
          ],
        },
      ],
    });
    const r = new Router(routes, seeded(1));
    const names = new Set(Array.from({ length: 200 }, () => r.resolve('a').target.name));
    expect(names).toEqual(new Set(['a', 'b']));
    expect(new Set(Array.from({ length: 50 }, () => r.resolve('b').target.name))).toEqual(new Set(['b']));
    expect(r.resolve('other').target.name).toBe('other');
  });

  it('keeps a session on the candidate named in x-seldon-route', () => {
    const routes = table({
      models: { a: ep(1000), b: ep(2000) },
      experiments: [
        {
          name: 'ab',
          candidates: [
            { name: 'a', weight: 1 },
            { name: 'b', weight: 1 },
          ],
        },
      ],
    });
    const r = new Router(routes, seeded(7));
    for (let i = 0; i < 100; i++) {
      expect(r.resolve('ab.experiment', ':b_1:').target.name).toBe('b');
      expect(r.resolve('ab.experiment', ':a_1:').target.name).toBe('a');
    }
    // A token for something that is not a candidate falls back to the split.
    const names = new Set(
      Array.from({ length: 100 }, () => r.resolve('ab.experiment', ':zzz_1:').target.name),
    );
    expect(names.size).toBe(2);
  });

  it('mirrors about the configured percentage', () => {
    const routes = table({
      models: { a: ep(1000), shadow: ep(2000) },
      experiments: [
        {
          name: 'm',
          default: 'a',
          candidates: [{ name: 'a', weight: 1 }],
          mirror: { name: 'shadow', percent: 25 },
        },
      ],
    });
    const r = new Router(routes, seeded(3));
    let mirrored = 0;
    for (let i = 0; i < 10_000; i++) {
      const res = r.resolve('a');
      expect(res.target.name).toBe('a');
      if (res.mirror) {
        expect(res.mirror.name).toBe('shadow');
        mirrored++;
      }
    }
    expect(Math.abs(mirrored / 10_000 - 0.25)).toBeLessThan(0.02);
  });

  it('splits between versions during a roll-out by ready replicas and pins sticky versions', () => {
    const t = table({});
    const mk = (port: number) => ({
      serverName: 's',
      replicaIdx: port,
      host: 'h',
      httpPort: port,
      grpcPort: port,
    });
    t.apply({
      revision: 2,
      full: true,
      models: [
        {
          name: 'm',
          namespace: 'default',
          versions: [
            { version: 1, internalName: 'm_1', endpoints: [mk(1)] },
            { version: 2, internalName: 'm_2', endpoints: [mk(2), mk(3), mk(4)] },
          ],
        },
      ],
      removedModels: [],
      experiments: [],
      removedExperiments: [],
      pipelines: [],
      removedPipelines: [],
    });
    const r = new Router(t, seeded(9));
    let v2 = 0;
    for (let i = 0; i < 4000; i++) {
      const target = r.resolve('m').target;
      if (target.kind === 'model' && target.version === 2) v2++;
    }
    expect(v2 / 4000).toBeGreaterThan(0.7);
    expect(v2 / 4000).toBeLessThan(0.8);
    for (let i = 0; i < 100; i++) {
      expect(r.resolve('m', ':m_1:').target).toMatchObject({ version: 1, internalName: 'm_1' });
    }
  });
});
