import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ModelRoute, RouteUpdate } from '../../../src/runtime/protocol/control.ts';
import { RouteTable } from '../../../src/runtime/protocol/route-table.ts';

const endpoint = (replicaIdx: number) => ({
  serverName: 'mlserver',
  replicaIdx,
  host: '10.0.0.1',
  httpPort: 9000 + replicaIdx,
  grpcPort: 9500 + replicaIdx,
});
const model = (name: string, replicas: number[]): ModelRoute => ({
  name,
  namespace: 'default',
  versions: [{ version: 1, internalName: `${name}_1`, endpoints: replicas.map(endpoint) }],
});
const update = (u: Partial<RouteUpdate>): RouteUpdate => ({
  revision: 1,
  full: false,
  models: [],
  removedModels: [],
  experiments: [],
  removedExperiments: [],
  pipelines: [],
  removedPipelines: [],
  ...u,
});
const experiment = {
  name: 'ab',
  namespace: 'default',
  default: 'iris',
  candidates: [],
  resourceType: 'model',
};
const pipeline = { name: 'chain', namespace: 'default', version: 1, modelsReady: true };

function servingTable(): RouteTable {
  const t = new RouteTable(30_000);
  t.apply(
    update({
      full: true,
      models: [model('iris', [0, 1]), model('wine', [1])],
      experiments: [experiment],
      pipelines: [pipeline],
    }),
  );
  return t;
}

describe('RouteTable across a scheduler restart', () => {
  afterEach(() => vi.useRealTimers());

  it('a first table carries nothing over', () => {
    const t = new RouteTable();
    t.apply(update({ full: true, models: [model('iris', [0])] }));
    expect(t.carryingOver).toBe(false);
  });

  it("keeps serving routes the new scheduler's first table lacks until it names them", () => {
    const t = servingTable();
    // The restarted scheduler has heard from replica 0 only: wine (on replica 1) is missing.
    t.apply(update({ revision: 1, full: true, models: [model('iris', [0])] }));
    expect(t.models.get('iris')?.versions[0].endpoints).toEqual([endpoint(0)]);
    expect(t.models.get('wine')?.versions[0].endpoints).toEqual([endpoint(1)]);
    expect(t.experiments.has('ab')).toBe(true);
    expect(t.pipelines.has('chain')).toBe(true);
    expect(t.carryingOver).toBe(true);
    // Replica 1 reports again: the new table has everything, so nothing is carried any more.
    t.apply(
      update({
        revision: 2,
        models: [model('iris', [0, 1]), model('wine', [1])],
        experiments: [experiment],
        pipelines: [pipeline],
      }),
    );
    expect(t.carryingOver).toBe(false);
    expect(t.models.get('iris')?.versions[0].endpoints).toEqual([endpoint(0), endpoint(1)]);
  });

  it('a route the new scheduler removes goes at once', () => {
    const t = servingTable();
    t.apply(update({ full: true, models: [model('iris', [0])] }));
    t.apply(update({ revision: 2, removedModels: ['wine'], removedPipelines: ['chain'] }));
    expect(t.models.has('wine')).toBe(false);
    expect(t.pipelines.has('chain')).toBe(false);
    expect(t.experiments.has('ab')).toBe(true);
  });

  it('what the new table still lacks after the carry-over period is gone, and the revision moves', () => {
    vi.useFakeTimers();
    const t = servingTable();
    t.apply(update({ full: true, models: [model('iris', [0])] }));
    const revision = t.revision;
    vi.advanceTimersByTime(29_000);
    expect(t.models.has('wine')).toBe(true);
    vi.advanceTimersByTime(1_000);
    expect(t.models.has('wine')).toBe(false);
    expect(t.experiments.has('ab')).toBe(false);
    expect(t.models.has('iris')).toBe(true);
    expect(t.carryingOver).toBe(false);
    expect(t.revision).toBeGreaterThan(revision);
  });

  it('the revision moves on every update, whatever number a restarted scheduler starts from', () => {
    const t = servingTable();
    const before = t.revision;
    t.apply(update({ revision: 1, full: true, models: [model('iris', [0])] }));
    expect(t.revision).not.toBe(before);
  });
});
