import { describe, expect, it } from 'vitest';
import type { ModelOperation } from '../../../src/runtime/protocol/control.ts';
import { PendingChanges } from '../../../src/runtime/scheduler/pending-changes.ts';
import { StatusWriter } from '../../../src/runtime/scheduler/status-writer.ts';
import { FakeAgent, harness, MemoryStatus, model } from './fakes.ts';

describe('PendingChanges', () => {
  it('hands each kind over once, in name order, without duplicates', () => {
    const p = new PendingChanges();
    p.add('model', 'wine');
    p.add('model', 'iris');
    p.add('model', 'wine');
    p.add('server', 'mlserver');
    expect(p.take('model')).toEqual(['iris', 'wine']);
    expect(p.take('model')).toEqual([]);
    expect(p.take('server')).toEqual(['mlserver']);
  });
});

describe('StatusWriter', () => {
  it('writes every kind, each resource again only when its status changed', () => {
    const sink = new MemoryStatus();
    const writes: string[] = [];
    const w = new StatusWriter({
      modelStatus: (ns, name, s) => {
        writes.push(`Model ${ns}/${name}`);
        sink.modelStatus(ns, name, s);
      },
      serverStatus: (ns, name) => writes.push(`Server ${ns}/${name}`),
      experimentStatus: (ns, name) => writes.push(`Experiment ${ns}/${name}`),
    });
    w.write('Model', 'ns', 'iris', { replicas: 1 });
    w.write('Model', 'ns', 'iris', { replicas: 1 });
    w.write('Server', 'ns', 'iris', { loadedModels: 0, replicas: 1, selector: '' });
    w.write('Experiment', 'ns', 'iris', {});
    w.write('Model', 'ns', 'iris', { replicas: 2 });
    expect(writes).toEqual(['Model ns/iris', 'Server ns/iris', 'Experiment ns/iris', 'Model ns/iris']);
    expect(sink.models.get('iris')).toEqual({ replicas: 2 });
  });

  it('says which kinds go nowhere, so their status is not built', () => {
    const partial = new StatusWriter({ modelStatus: () => {}, serverStatus: () => {} });
    expect(partial.writes('Model')).toBe(true);
    expect(partial.writes('Experiment')).toBe(false);
    expect(new StatusWriter().writes('Server')).toBe(false);
  });
});

describe('reconcile order', () => {
  it('withdraws a replica from the routes before its agent is told to unload it', () => {
    const h = harness();
    const events: string[] = [];
    class RecordingAgent extends FakeAgent {
      override send(op: ModelOperation): void {
        events.push(`${op.operation} ${this.server}-${this.idx}`);
        super.send(op);
      }
    }
    const agents = [0, 1].map((i) => new RecordingAgent(h.scheduler, 'mlserver', i).connect());
    h.scheduler.onRoutes((u) => {
      for (const m of u.models) events.push(`route ${m.versions[0].endpoints.length}`);
    });
    h.scheduler.upsertModel(model('iris', { replicas: 2 }));
    h.scheduler.markSynced();
    h.settle(agents);
    events.length = 0;
    h.scheduler.upsertModel(model('iris', { replicas: 1 }));
    h.scheduler.flush();
    expect(events).toHaveLength(2);
    expect(events[0]).toBe('route 1');
    expect(events[1]).toMatch(/^UNLOAD_MODEL mlserver-[01]$/);
  });
});
