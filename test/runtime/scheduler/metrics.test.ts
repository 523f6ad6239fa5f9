import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SchedulerMetrics } from '../../../src/runtime/scheduler/metrics.ts';
import { Scheduler } from '../../../src/runtime/scheduler/scheduler.ts';
import { FakeAgent, GiB, model } from './fakes.ts';

describe('SchedulerMetrics', () => {
  it('counts placements by result and reports models by state', async () => {
    const metrics = new SchedulerMetrics();
    const s = new Scheduler(
      { log: pino({ level: 'silent' }), autoFlush: false, waitForServersMs: 0 },
      metrics,
    );
    const agent = new FakeAgent(s, 'mlserver', 0, 1 * GiB).connect();
    s.upsertModel(model('small', { memory: '100Mi' }));
    s.upsertModel(model('huge', { memory: '8Gi' }));
    s.markSynced();
    s.flush();
    agent.answer();
    s.flush();
    const text = await metrics.registry.metrics();
    expect(text).toContain('mlops_scheduler_placements_total{result="placed"} 1');
    expect(text).toContain('mlops_scheduler_placements_total{result="failed"} 1');
    expect(text).toContain('mlops_scheduler_models{state="ModelAvailable"} 1');
    expect(text).toContain('mlops_scheduler_models{state="ScheduleFailed"} 1');
    expect(text).toContain('mlops_scheduler_server_replicas_connected{server="mlserver"} 1');
    expect(text).toMatch(/mlops_scheduler_route_updates_total [1-9]/);
  });
});
