import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { ModelScalingTriggerMessage } from '../../../src/runtime/protocol/control.ts';
import { Autoscaler } from '../../../src/runtime/scheduler/autoscaler.ts';
import { FakeAgent, harness, model, serverResource } from './fakes.ts';

function setup(spec: { replicas?: number; minReplicas?: number; maxReplicas?: number }, pods = 3) {
  let t = 0;
  const h = harness({ now: () => t });
  const scaled: string[] = [];
  const auto = new Autoscaler({
    scheduler: h.scheduler,
    source: {
      scale: async (kind, _ns, name, n) => {
        scaled.push(`${kind}/${name}=${n}`);
        return 'scaled' as const;
      },
    },
    log: pino({ level: 'silent' }),
    cooldownMs: 1000,
    models: true,
    servers: true,
    now: () => t,
  });
  const agents = Array.from({ length: pods }, (_, i) => new FakeAgent(h.scheduler, 'mlserver', i).connect());
  h.scheduler.upsertModel(model('iris', spec));
  h.scheduler.markSynced();
  h.settle(agents);
  const trigger = (trigger: 'SCALE_UP' | 'SCALE_DOWN'): ModelScalingTriggerMessage => ({
    serverName: 'mlserver',
    replicaIdx: 0,
    modelName: 'iris',
    modelVersion: 1,
    trigger,
    amount: 1,
    metrics: {},
  });
  return { h, auto, agents, scaled, trigger, advance: (ms: number) => (t += ms) };
}

describe('Autoscaler (models)', () => {
  it('scales up on lag and down on idleness within min/max, with a cool-down', () => {
    const s = setup({ replicas: 1, minReplicas: 1, maxReplicas: 2 });
    expect(s.auto.onTrigger(s.trigger('SCALE_UP'))).toBe(2);
    s.h.settle(s.agents);
    expect(s.h.endpoints('iris')?.[0][1]).toHaveLength(2);
    s.advance(2000);
    expect(s.auto.onTrigger(s.trigger('SCALE_UP'))).toBeUndefined(); // at max
    expect(s.auto.onTrigger(s.trigger('SCALE_DOWN'))).toBe(1);
    s.h.settle(s.agents);
    expect(s.h.endpoints('iris')?.[0][1]).toHaveLength(1);
    expect(s.auto.onTrigger(s.trigger('SCALE_UP'))).toBeUndefined(); // cooling down
    s.advance(1000);
    expect(s.auto.onTrigger(s.trigger('SCALE_DOWN'))).toBeUndefined(); // at min
    expect(s.scaled).toEqual(['Model/iris=2', 'Model/iris=1']);
    expect(s.h.status.models.get('iris')?.replicas).toBe(1);
  });

  it('leaves models without bounds alone and never goes below 1', () => {
    const unbounded = setup({ replicas: 2 });
    expect(unbounded.auto.onTrigger(unbounded.trigger('SCALE_DOWN'))).toBeUndefined();
    const s = setup({ replicas: 1, maxReplicas: 3 });
    expect(s.auto.onTrigger(s.trigger('SCALE_DOWN'))).toBeUndefined();
  });
});

describe('Autoscaler (servers)', () => {
  it('grows a server for a model that wants more pods and shrinks empty top pods', () => {
    const s = setup({ replicas: 1 }, 2);
    s.h.scheduler.upsertServer(serverResource('mlserver', { replicas: 2, minReplicas: 1, maxReplicas: 4 }));
    s.h.settle(s.agents);
    s.auto.checkServers();
    expect(s.scaled).toEqual(['Server/mlserver=1']); // pod 1 holds nothing
    s.advance(5000);
    s.h.scheduler.upsertModel(model('iris', { replicas: 3 }));
    s.h.settle(s.agents);
    s.auto.checkServers();
    expect(s.scaled.at(-1)).toBe('Server/mlserver=3');
  });
});
