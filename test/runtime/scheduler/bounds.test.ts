import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Autoscaler } from '../../../src/runtime/scheduler/autoscaler.ts';
import { boundsDecision } from '../../../src/runtime/scheduler/bounds.ts';
import { FakeAgent, harness, model, serverResource } from './fakes.ts';

describe('boundsDecision', () => {
  it('raises replicas below minReplicas to the minimum', () => {
    expect(boundsDecision('Server', { replicas: 1, minReplicas: 3, maxReplicas: 5 })).toEqual({
      action: 'scale',
      from: 1,
      to: 3,
      reason: 'replicas 1 is below minReplicas 3',
    });
    expect(boundsDecision('Model', { replicas: 0, minReplicas: 2 })).toMatchObject({ from: 0, to: 2 });
  });

  it('counts a Server without replicas as the one pod its StatefulSet starts with', () => {
    expect(boundsDecision('Server', { minReplicas: 2, maxReplicas: 4 })).toEqual({
      action: 'scale',
      from: 1,
      to: 2,
      reason: 'replicas unset (1 pod) is below minReplicas 2',
    });
    expect(boundsDecision('Server', { maxReplicas: 4 })).toEqual({ action: 'within', replicas: 1 });
    // A Model without replicas runs minReplicas: always within.
    expect(boundsDecision('Model', { minReplicas: 2, maxReplicas: 4 })).toEqual({
      action: 'within',
      replicas: 2,
    });
  });

  it('lowers replicas above maxReplicas to the maximum', () => {
    expect(boundsDecision('Model', { replicas: 7, minReplicas: 1, maxReplicas: 3 })).toEqual({
      action: 'scale',
      from: 7,
      to: 3,
      reason: 'replicas 7 is above maxReplicas 3',
    });
    expect(boundsDecision('Server', { replicas: 4, maxReplicas: 2 })).toMatchObject({ from: 4, to: 2 });
  });

  it('keeps replicas within the bounds, and leaves resources without bounds alone', () => {
    for (const replicas of [2, 3, 4]) {
      expect(boundsDecision('Server', { replicas, minReplicas: 2, maxReplicas: 4 })).toEqual({
        action: 'within',
        replicas,
      });
    }
    expect(boundsDecision('Server', { replicas: 9 })).toEqual({ action: 'none' });
    expect(boundsDecision('Model', { replicas: 0 })).toEqual({ action: 'none' });
    expect(boundsDecision('Model', undefined)).toEqual({ action: 'none' });
  });

  it('refuses contradictory bounds with the fields to fix', () => {
    expect(boundsDecision('Server', { replicas: 3, minReplicas: 4, maxReplicas: 2 })).toEqual({
      action: 'invalid',
      reason: 'minReplicas 4 is above maxReplicas 2; fix spec.minReplicas or spec.maxReplicas',
    });
  });
});

type PodsWrite = 'scaled' | 'missing' | 'fail';

/** `pods`: how successive writes of a StatefulSet's scale answer (then `scaled`), whether by a
 * Server's scale write or on their own; without it, the source has no StatefulSets (local mode). */
function setup(opts: { failWrites?: number; pods?: PodsWrite[] } = {}) {
  let t = 0;
  const h = harness({ now: () => t });
  const scaled: string[] = [];
  const podWrites: string[] = [];
  const podAnswers = [...(opts.pods ?? [])];
  /** The replicas each StatefulSet is set to, as the apiserver holds them. */
  const statefulSets = new Map<string, number>();
  const logged: Record<string, unknown>[] = [];
  let failures = opts.failWrites ?? 0;
  const log = pino(
    { level: 'info' },
    { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const auto = new Autoscaler({
    scheduler: h.scheduler,
    source: {
      scale: async (kind, _ns, name, n) => {
        if (failures-- > 0) throw new Error('apiserver unavailable');
        scaled.push(`${kind}/${name}=${n}`);
        // A Server's scale write also writes its StatefulSet's, answered like scaleServerPods.
        const answer = kind === 'Server' && opts.pods ? (podAnswers.shift() ?? 'scaled') : 'scaled';
        if (answer === 'fail') throw new Error('apiserver unavailable');
        return answer;
      },
      ...(opts.pods
        ? {
            scaleServerPods: async (_ns: string, name: string, n: number) => {
              podWrites.push(`${name}=${n}`);
              const answer = podAnswers.shift() ?? 'scaled';
              if (answer === 'fail') throw new Error('apiserver unavailable');
              if (answer === 'scaled') statefulSets.set(name, n);
              return answer;
            },
            serverPods: async (_ns: string, name: string) => statefulSets.get(name),
          }
        : {}),
    },
    log,
    cooldownMs: 60_000,
    models: true,
    servers: true,
    now: () => t,
    periodMs: 10,
  });
  const serverSeen = (spec: Parameters<typeof serverResource>[1], generation?: number) => {
    const res = serverResource('mlserver', spec);
    if (generation !== undefined) res.metadata.generation = generation;
    h.scheduler.upsertServer(res);
    auto.onResource(res);
  };
  const modelSeen = (spec: Parameters<typeof model>[1]) => {
    const res = model('iris', spec);
    h.scheduler.upsertModel(res);
    auto.onResource(res);
  };
  const decisions = () => logged.filter((l) => l.msg === 'scaling decision');
  return {
    h,
    auto,
    scaled,
    podWrites,
    statefulSets,
    logged,
    decisions,
    serverSeen,
    modelSeen,
    advance: (ms: number) => (t += ms),
  };
}

const flushWrites = () => new Promise((r) => setImmediate(r));

describe('Autoscaler (bounds)', () => {
  it('raises a Server first seen below minReplicas and logs why', async () => {
    const s = setup();
    s.serverSeen({ minReplicas: 3, maxReplicas: 5 });
    await flushWrites();
    expect(s.scaled).toEqual(['Server/mlserver=3']);
    expect(s.h.scheduler.servers.get('mlserver')?.desired?.replicas).toBe(3);
    expect(s.decisions()).toEqual([
      expect.objectContaining({
        kind: 'Server',
        name: 'mlserver',
        from: 1,
        to: 3,
        reason: 'replicas unset (1 pod) is below minReplicas 3',
      }),
    ]);
  });

  it('lowers a Server scaled by hand above maxReplicas', async () => {
    const s = setup();
    s.serverSeen({ replicas: 6, minReplicas: 1, maxReplicas: 4 });
    await flushWrites();
    expect(s.scaled).toEqual(['Server/mlserver=4']);
    expect(s.h.scheduler.servers.get('mlserver')?.desired?.replicas).toBe(4);
  });

  it('writes nothing for a Server within its bounds where there are no StatefulSets (local)', async () => {
    const s = setup();
    s.serverSeen({ replicas: 2, minReplicas: 1, maxReplicas: 4 });
    await flushWrites();
    expect(s.scaled).toEqual([]);
    expect(s.decisions()).toEqual([]);
  });

  it('re-evaluates when the bounds change, ignoring the cool-down of demand-driven changes', async () => {
    const s = setup();
    s.serverSeen({ replicas: 2, minReplicas: 1, maxReplicas: 4 });
    s.serverSeen({ replicas: 2, minReplicas: 3, maxReplicas: 4 });
    await flushWrites();
    s.serverSeen({ replicas: 3, minReplicas: 1, maxReplicas: 2 });
    await flushWrites();
    expect(s.scaled).toEqual(['Server/mlserver=3', 'Server/mlserver=2']);
    expect(s.decisions().map((d) => d.reason)).toEqual([
      'replicas 2 is below minReplicas 3',
      'replicas 3 is above maxReplicas 2',
    ]);
  });

  it('a bounds correction does not hold back the next demand-driven change', async () => {
    const s = setup();
    const agents = [0, 1, 2, 3].map((i) => new FakeAgent(s.h.scheduler, 'mlserver', i).connect());
    s.serverSeen({ minReplicas: 2, maxReplicas: 4 });
    s.modelSeen({ replicas: 3, requirements: [] });
    s.h.scheduler.markSynced();
    s.h.settle(agents);
    s.auto.checkServers();
    await flushWrites();
    expect(s.scaled).toEqual(['Server/mlserver=2', 'Server/mlserver=3']);
  });

  it('corrects a Model edited outside its bounds, in the scheduler too', async () => {
    const s = setup();
    const agents = [0, 1, 2].map((i) => new FakeAgent(s.h.scheduler, 'mlserver', i).connect());
    s.h.scheduler.markSynced();
    s.modelSeen({ replicas: 1, minReplicas: 1, maxReplicas: 2 });
    s.h.settle(agents);
    s.modelSeen({ replicas: 3, minReplicas: 1, maxReplicas: 2 });
    s.h.settle(agents);
    await flushWrites();
    expect(s.scaled).toEqual(['Model/iris=2']);
    expect(s.h.endpoints('iris')?.[0][1]).toHaveLength(2);
  });

  it('decides once per generation: a status write re-delivering the old spec is not a new decision', async () => {
    const s = setup();
    const edited = (generation: number) => {
      const res = serverResource('mlserver', { replicas: 7, minReplicas: 1, maxReplicas: 3 });
      res.metadata.generation = generation;
      s.h.scheduler.upsertServer(res);
      s.auto.onResource(res);
    };
    edited(2);
    edited(2);
    await flushWrites();
    expect(s.scaled).toEqual(['Server/mlserver=3']);
    expect(s.h.scheduler.servers.get('mlserver')?.desired?.replicas).toBe(3);
    edited(4); // edited by hand again
    await flushWrites();
    expect(s.scaled).toEqual(['Server/mlserver=3', 'Server/mlserver=3']);
    expect(s.decisions()).toHaveLength(2);
  });

  it('retries a correction whose write failed, until a newer copy makes it moot', async () => {
    const s = setup({ failWrites: 1 });
    s.serverSeen({ minReplicas: 2 });
    await flushWrites();
    expect(s.scaled).toEqual([]);
    s.auto.start();
    try {
      await new Promise((r) => setTimeout(r, 50));
      expect(s.scaled).toEqual(['Server/mlserver=2']);
      s.serverSeen({ replicas: 2, minReplicas: 2 });
      await new Promise((r) => setTimeout(r, 50));
      expect(s.scaled).toEqual(['Server/mlserver=2']);
    } finally {
      s.auto.stop();
    }
  });

  it('sets the StatefulSet of a Server within its bounds to its replicas, once per generation', async () => {
    const s = setup({ pods: [] });
    s.serverSeen({ replicas: 2, minReplicas: 1, maxReplicas: 3 }, 1);
    await flushWrites();
    expect(s.podWrites).toEqual(['mlserver=2']);
    expect(s.scaled).toEqual([]);
    expect(s.decisions()).toEqual([
      expect.objectContaining({
        kind: 'Server',
        name: 'mlserver',
        to: 2,
        reason: 'StatefulSet follows Server replicas 2',
      }),
    ]);
    s.serverSeen({ replicas: 2, minReplicas: 1, maxReplicas: 3 }, 1); // a status write
    await flushWrites();
    expect(s.podWrites).toEqual(['mlserver=2']);
    s.serverSeen({ replicas: 3, minReplicas: 1, maxReplicas: 3 }, 2);
    await flushWrites();
    expect(s.podWrites).toEqual(['mlserver=2', 'mlserver=3']);
    expect(s.decisions()).toHaveLength(2);
    // A restarted scheduler sees it for the first time: the StatefulSet may have been recreated.
    const restarted = setup({ pods: [] });
    restarted.serverSeen({ replicas: 3, minReplicas: 1, maxReplicas: 3 }, 2);
    await flushWrites();
    expect(restarted.podWrites).toEqual(['mlserver=3']);
  });

  it('a Server without replicas within its bounds gets the one pod it counts as', async () => {
    const s = setup({ pods: [] });
    s.serverSeen({ minReplicas: 1, maxReplicas: 3 }, 1);
    await flushWrites();
    expect(s.podWrites).toEqual(['mlserver=1']);
    expect(s.decisions().map((d) => d.reason)).toEqual(['StatefulSet follows Server replicas 1']);
  });

  it('does not follow the Server generation its own scale write made (that write set the StatefulSet)', async () => {
    const s = setup({ pods: [] });
    s.serverSeen({ minReplicas: 2, maxReplicas: 4 }, 1);
    await flushWrites();
    s.serverSeen({ replicas: 2, minReplicas: 2, maxReplicas: 4 }, 2);
    await flushWrites();
    expect(s.scaled).toEqual(['Server/mlserver=2']);
    expect(s.podWrites).toEqual([]);
    expect(s.decisions()).toHaveLength(1);
    // A later edit by hand within the bounds is followed.
    s.serverSeen({ replicas: 3, minReplicas: 2, maxReplicas: 4 }, 3);
    await flushWrites();
    expect(s.podWrites).toEqual(['mlserver=3']);
  });

  it('sets back a StatefulSet recreated or scaled by hand to what its Server says', async () => {
    const s = setup({ pods: [] });
    s.serverSeen({ replicas: 3, minReplicas: 1, maxReplicas: 4 }, 1);
    await flushWrites();
    expect(s.statefulSets.get('mlserver')).toBe(3);
    await s.auto.checkServerPods();
    expect(s.podWrites).toEqual(['mlserver=3']); // in step: nothing written
    s.statefulSets.set('mlserver', 1); // recreated without replicas, so Kubernetes made it 1
    await s.auto.checkServerPods();
    await flushWrites();
    expect(s.podWrites).toEqual(['mlserver=3', 'mlserver=3']);
    expect(s.statefulSets.get('mlserver')).toBe(3);
    expect(s.decisions().at(-1)).toMatchObject({
      kind: 'Server',
      name: 'mlserver',
      from: 1,
      to: 3,
      reason: "its StatefulSet runs 1 pods, not the Server's 3 (recreated or scaled by hand)",
    });
    s.statefulSets.delete('mlserver'); // deleted: nothing to set until it is back
    await s.auto.checkServerPods();
    await flushWrites();
    expect(s.podWrites).toHaveLength(2);
  });

  it('does not compare a StatefulSet whose write is still on its way', async () => {
    const s = setup({ pods: ['missing'] });
    s.serverSeen({ replicas: 2, minReplicas: 1, maxReplicas: 4 }, 1);
    await flushWrites();
    expect(s.podWrites).toEqual(['mlserver=2']); // missing: retried by the period, not here
    s.statefulSets.set('mlserver', 1);
    await s.auto.checkServerPods();
    await flushWrites();
    expect(s.podWrites).toEqual(['mlserver=2']);
    expect(s.decisions()).toHaveLength(1);
  });

  it('leaves the StatefulSet of a Server without bounds alone', async () => {
    const s = setup({ pods: [] });
    s.serverSeen({ replicas: 2 }, 1);
    await flushWrites();
    s.statefulSets.set('mlserver', 5); // its replicas are the manifest's, not the runtime's
    await s.auto.checkServerPods();
    await flushWrites();
    expect(s.podWrites).toEqual([]);
    expect(s.decisions()).toEqual([]);
  });

  it('retries the StatefulSet write while it is missing or failing, then stops', async () => {
    const s = setup({ pods: ['missing', 'missing', 'fail'] });
    s.serverSeen({ replicas: 2, minReplicas: 1, maxReplicas: 3 }, 1);
    s.auto.start();
    try {
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      s.auto.stop();
    }
    expect(s.podWrites).toEqual(['mlserver=2', 'mlserver=2', 'mlserver=2', 'mlserver=2']);
    // One decision, and the missing StatefulSet reported once.
    expect(s.decisions()).toHaveLength(1);
    expect(s.logged.filter((l) => String(l.msg).startsWith('no StatefulSet'))).toHaveLength(1);
    expect(s.logged.filter((l) => l.msg === 'StatefulSet scaling write failed')).toHaveLength(1);
  });

  it('a Server corrected before its StatefulSet exists: the StatefulSet is set once it does', async () => {
    const s = setup({ pods: ['missing', 'missing'] });
    s.serverSeen({ minReplicas: 2, maxReplicas: 4 }, 1);
    s.auto.start();
    try {
      await new Promise((r) => setTimeout(r, 100));
      s.serverSeen({ replicas: 2, minReplicas: 2, maxReplicas: 4 }, 2); // its own write coming back
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      s.auto.stop();
    }
    expect(s.scaled).toEqual(['Server/mlserver=2']);
    expect(s.podWrites).toEqual(['mlserver=2', 'mlserver=2']);
    expect(s.decisions()).toHaveLength(1);
  });

  it('writes a newer StatefulSet value once the write in flight is done', async () => {
    const s = setup({ pods: [] });
    s.serverSeen({ replicas: 2, minReplicas: 1, maxReplicas: 3 }, 1);
    s.serverSeen({ replicas: 3, minReplicas: 1, maxReplicas: 3 }, 2);
    expect(s.podWrites).toEqual(['mlserver=2']);
    await flushWrites();
    expect(s.podWrites).toEqual(['mlserver=2', 'mlserver=3']);
  });

  it('a newer value waits for the StatefulSet write in flight, so the older one cannot land last', async () => {
    const s = setup({ pods: [] });
    s.serverSeen({ replicas: 2, minReplicas: 1, maxReplicas: 3 }, 1);
    s.serverSeen({ replicas: 3, minReplicas: 1, maxReplicas: 3 }, 2);
    s.serverSeen({ replicas: 5, minReplicas: 1, maxReplicas: 3 }, 3); // corrected to 3 by the Server's scale
    expect(s.podWrites).toEqual(['mlserver=2']);
    expect(s.scaled).toEqual([]);
    await flushWrites();
    expect(s.podWrites).toEqual(['mlserver=2']);
    expect(s.scaled).toEqual(['Server/mlserver=3']);
  });
});
