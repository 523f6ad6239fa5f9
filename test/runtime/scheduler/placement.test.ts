import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  capabilities,
  hasReplicas,
  memory,
  notDeleted,
  notDraining,
  pinnedServer,
} from '../../../src/runtime/scheduler/placement/filters.ts';
import { place } from '../../../src/runtime/scheduler/placement/place.ts';
import {
  alreadyHolds,
  hostsModel,
  leastFreeMemory,
  mostFreeMemory,
  replicaIndex,
  serverName,
  serverUp,
} from '../../../src/runtime/scheduler/placement/sorters.ts';
import type {
  PlacementRequest,
  PolicyName,
  ReplicaView,
  ServerView,
} from '../../../src/runtime/scheduler/placement/types.ts';
import { ServerEntry, ServerReplica } from '../../../src/runtime/scheduler/servers.ts';

function replica(serverName: string, idx: number, capacity: number, committed = 0): ReplicaView {
  return {
    serverName,
    idx,
    capacityBytes: capacity,
    committedBytes: committed,
    draining: false,
    serverDown: false,
    models: new Map(),
  };
}

function server(
  name: string,
  replicas: ReplicaView[],
  opts: { caps?: string[]; expected?: number; policy?: PolicyName } = {},
): ServerView {
  return {
    name,
    replicas,
    capabilities: new Set(opts.caps ?? ['sklearn']),
    expectedReplicas: opts.expected ?? replicas.length,
    policy: opts.policy ?? 'spread',
  };
}

function req(partial: Partial<PlacementRequest> = {}): PlacementRequest {
  return {
    name: 'iris',
    version: 1,
    requirements: [],
    memoryBytes: 0,
    server: '',
    replicas: 1,
    minReplicas: 0,
    ...partial,
  };
}

describe('server filters', () => {
  it('has-replicas rejects a server with no connected pod', () => {
    expect(hasReplicas.accepts(req(), server('a', []))).toBe(false);
    expect(hasReplicas.accepts(req(), server('a', [replica('a', 0, 1)]))).toBe(true);
  });
  it('pinned-server accepts only the named server when pinned', () => {
    const s = server('a', [replica('a', 0, 1)]);
    expect(pinnedServer.accepts(req(), s)).toBe(true);
    expect(pinnedServer.accepts(req({ server: 'a' }), s)).toBe(true);
    expect(pinnedServer.accepts(req({ server: 'b' }), s)).toBe(false);
    expect(pinnedServer.explain(req({ server: 'b' }), s)).toContain('"b"');
  });
  it('not-deleted rejects a server expecting 0 replicas, not one still unknown', () => {
    expect(notDeleted.accepts(req(), server('a', [replica('a', 0, 1)], { expected: 0 }))).toBe(false);
    expect(notDeleted.accepts(req(), server('a', [replica('a', 0, 1)], { expected: -1 }))).toBe(true);
  });
  it('capabilities requires every requirement and names the missing ones', () => {
    const s = server('a', [replica('a', 0, 1)], { caps: ['sklearn', 'xgboost'] });
    expect(capabilities.accepts(req({ requirements: ['sklearn'] }), s)).toBe(true);
    expect(capabilities.accepts(req({ requirements: ['sklearn', 'onnx', 'gpu'] }), s)).toBe(false);
    expect(capabilities.explain(req({ requirements: ['sklearn', 'onnx', 'gpu'] }), s)).toBe(
      'missing capabilities onnx, gpu',
    );
  });
});

describe('replica filters', () => {
  it('not-draining', () => {
    const r = replica('a', 0, 1);
    expect(notDraining.accepts(req(), r)).toBe(true);
    r.draining = true;
    expect(notDraining.accepts(req(), r)).toBe(false);
  });
  it('memory counts in-flight reservations and exempts a replica holding the same version', () => {
    const r = replica('a', 0, 100, 60);
    expect(memory.accepts(req({ memoryBytes: 40 }), r)).toBe(true);
    expect(memory.accepts(req({ memoryBytes: 41 }), r)).toBe(false);
    r.models.set('iris', new Set([1]));
    expect(memory.accepts(req({ memoryBytes: 41, currentServer: 'a' }), r)).toBe(true);
    expect(memory.accepts(req({ memoryBytes: 41, version: 2, currentServer: 'a' }), r)).toBe(false);
  });
});

describe('sorters', () => {
  it('server-name orders servers by name', () => {
    expect(serverName.compare(req(), server('a', []), server('b', []))).toBeLessThan(0);
    expect(serverName.compare(req(), server('b', []), server('a', []))).toBeGreaterThan(0);
    expect(serverName.compare(req(), server('a', []), server('a', []))).toBe(0);
  });
  it('hosts-model puts the current server first', () => {
    const a = server('a', []);
    const b = server('b', []);
    expect(hostsModel.compare(req({ currentServer: 'b' }), a, b)).toBeGreaterThan(0);
    expect(hostsModel.compare(req(), a, b)).toBe(0);
  });
  it('already-holds, free memory and index order replicas', () => {
    const a = replica('s', 0, 100, 10);
    const b = replica('s', 1, 100, 50);
    expect(mostFreeMemory.compare(req(), a, b)).toBeLessThan(0);
    expect(leastFreeMemory.compare(req(), a, b)).toBeGreaterThan(0);
    expect(replicaIndex.compare(req(), a, b)).toBeLessThan(0);
    b.models.set('iris', new Set([1]));
    expect(alreadyHolds.compare(req({ currentServer: 's' }), a, b)).toBeGreaterThan(0);
  });
  it('server-up puts replicas whose inference server is down last, after those already holding', () => {
    const s = server('s', [replica('s', 0, 100, 90), replica('s', 1, 100), replica('s', 2, 100)]);
    s.replicas[1].serverDown = true;
    s.replicas[2].serverDown = true;
    s.replicas[2].models.set('iris', new Set([1]));
    expect(serverUp.compare(req(), s.replicas[0], s.replicas[1])).toBeLessThan(0);
    // Spread would pick the emptier pod 1; its server is down, so pod 0 (which holds nothing).
    expect(place(req({ replicas: 1, memoryBytes: 10 }), [s])).toMatchObject({ replicas: [0] });
    // A pod already holding the model keeps it, down or not: a restart is no reason to move.
    expect(place(req({ replicas: 1, memoryBytes: 10, currentServer: 's' }), [s])).toMatchObject({
      replicas: [2],
    });
  });
});

describe('place', () => {
  it('spreads to the most free replicas and best-fit to the tightest', () => {
    const mk = (policy: PolicyName) =>
      server('s', [replica('s', 0, 100, 10), replica('s', 1, 100, 70), replica('s', 2, 100, 40)], { policy });
    expect(place(req({ memoryBytes: 20 }), [mk('spread')])).toEqual({
      ok: true,
      server: 's',
      replicas: [0],
      partial: false,
    });
    expect(place(req({ memoryBytes: 20 }), [mk('best-fit')])).toMatchObject({ replicas: [1] });
    // 35 no longer fits replica 1 (30 free): best fit takes the next tightest.
    expect(place(req({ memoryBytes: 35 }), [mk('best-fit')])).toMatchObject({ replicas: [2] });
    expect(place(req({ replicas: 2 }), [mk('spread')])).toMatchObject({ replicas: [0, 2] });
  });

  it('prefers replicas and the server already holding the model', () => {
    const r1 = replica('b', 1, 100, 90);
    r1.models.set('iris', new Set([1]));
    const a = server('a', [replica('a', 0, 100)]);
    const b = server('b', [replica('b', 0, 100), r1]);
    expect(place(req({ version: 2, memoryBytes: 5, currentServer: 'b' }), [a, b])).toMatchObject({
      server: 'b',
      replicas: [1],
    });
    expect(place(req({ version: 2, memoryBytes: 5 }), [a, b])).toMatchObject({ server: 'a' });
  });

  it('never puts two replicas of a model on one pod', () => {
    const s = server('s', [replica('s', 0, 1000), replica('s', 1, 1000)]);
    const r = place(req({ replicas: 3 }), [s]);
    expect(r.ok).toBe(false);
  });

  it('falls back to minReplicas (partial scheduling)', () => {
    const s = server('s', [replica('s', 0, 100), replica('s', 1, 100, 95), replica('s', 2, 100)]);
    expect(place(req({ replicas: 3, minReplicas: 2, memoryBytes: 10 }), [s])).toEqual({
      ok: true,
      server: 's',
      replicas: [0, 2],
      partial: true,
    });
    expect(place(req({ replicas: 3, minReplicas: 0, memoryBytes: 10 }), [s]).ok).toBe(false);
  });

  it('says which filter rejected what when nothing fits', () => {
    const draining = replica('mlserver', 1, 100);
    draining.draining = true;
    const servers = [
      server('triton', [replica('triton', 0, 1000)], { caps: ['onnx'] }),
      server('mlserver', [replica('mlserver', 0, 100, 80), draining], { caps: ['sklearn'] }),
    ];
    const r = place(req({ requirements: ['sklearn'], memoryBytes: 50 }), servers);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toContain('server triton: rejected by capabilities (missing capabilities sklearn)');
    expect(r.reason).toContain('rejected by memory on replica 0: needs 50 bytes, 20 free');
    expect(r.reason).toContain('rejected by not-draining on replica 1: draining');
    expect(place(req(), []).ok ? '' : (place(req(), []) as { reason: string }).reason).toBe(
      'no servers are connected',
    );
  });

  it('property: a placement respects every filter and picks distinct pods', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 100 }), fc.boolean()), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom<PolicyName>('spread', 'best-fit'),
        (specs, mem, n, policy) => {
          const rs = specs.map(([cap, used, drain], i) => {
            const r = replica('s', i, cap, Math.min(cap, used));
            r.draining = drain;
            return r;
          });
          const res = place(req({ memoryBytes: mem, replicas: n }), [server('s', rs, { policy })]);
          const fits = rs.filter((r) => !r.draining && r.capacityBytes - r.committedBytes >= mem);
          if (!res.ok) return fits.length < n;
          if (new Set(res.replicas).size !== res.replicas.length || res.replicas.length !== n) return false;
          const chosen = res.replicas.map((i) => rs[i]);
          if (!chosen.every((r) => fits.includes(r))) return false;
          // Nothing left out is strictly better under the policy's memory rule.
          const free = (r: ReplicaView) => r.capacityBytes - r.committedBytes;
          const worst = policy === 'spread' ? Math.min(...chosen.map(free)) : Math.max(...chosen.map(free));
          return fits
            .filter((r) => !chosen.includes(r))
            .every((r) => (policy === 'spread' ? free(r) <= worst : free(r) >= worst));
        },
      ),
    );
  });
});

describe('ServerEntry memory shortcut', () => {
  it('property: skipping servers by their cached max free memory never changes the decision', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 6 }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 3 }),
        (servers, mem, n) => {
          const entries = servers.map((used, si) => {
            const e = new ServerEntry(`s${si}`);
            used.forEach((u, i) => {
              const r = new ServerReplica(e.name, i, {
                inferenceHost: '',
                inferenceHttpPort: 0,
                inferenceGrpcPort: 0,
                memoryBytes: 100,
                capabilities: ['sklearn'],
                overCommitPercentage: 0,
              });
              e.addReplica(r);
              r.assign('other', 1, u);
            });
            return e;
          });
          // The same servers without the shortcut.
          const plain: ServerView[] = entries.map((e) => ({
            name: e.name,
            replicas: e.replicas,
            capabilities: e.capabilities,
            expectedReplicas: e.expectedReplicas,
            policy: e.policy,
          }));
          const request = req({ memoryBytes: mem, replicas: n });
          return JSON.stringify(place(request, entries)) === JSON.stringify(place(request, plain));
        },
      ),
    );
  });
});
