import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../../src/runtime/scheduler/scheduler.ts';
import { PLACEMENT_POLICY_ANNOTATION } from '../../../src/spec/annotations.ts';
import { FakeAgent, GiB, harness, model, serverResource } from './fakes.ts';

describe('Scheduler', () => {
  it('places a declared model, loads it and publishes its route and status', () => {
    const h = harness();
    h.scheduler.upsertServer(serverResource('mlserver', { replicas: 2 }));
    const a0 = new FakeAgent(h.scheduler, 'mlserver', 0).connect();
    const a1 = new FakeAgent(h.scheduler, 'mlserver', 1).connect();
    h.scheduler.upsertModel(model('iris'));
    h.scheduler.markSynced();
    h.scheduler.flush();
    expect(a0.ops.map((o) => `${o.operation} ${o.model.name}_${o.model.version}`)).toEqual([
      'LOAD_MODEL iris_1',
    ]);
    expect(h.table.models.has('iris')).toBe(false); // not routed before it is loaded
    h.settle([a0, a1]);
    expect(h.endpoints('iris')).toEqual([[1, ['mlserver-0']]]);
    expect(h.status.models.get('iris')).toMatchObject({
      replicas: 1,
      availableReplicas: 1,
      conditions: [
        { type: 'ModelReady', status: 'True', reason: 'ModelAvailable' },
        { type: 'Ready', status: 'True' },
      ],
    });
    expect(h.status.servers.get('mlserver')).toMatchObject({ loadedModels: 1, replicas: 2 });
  });

  it('rolls out a spec change as version N+1 and unloads N only when N+1 serves', () => {
    const h = harness();
    const a0 = new FakeAgent(h.scheduler, 'mlserver', 0).connect();
    const a1 = new FakeAgent(h.scheduler, 'mlserver', 1).connect();
    h.scheduler.upsertModel(model('iris', { replicas: 2 }, 3));
    h.scheduler.markSynced();
    h.settle([a0, a1]);
    expect(h.endpoints('iris')).toEqual([[3, ['mlserver-0', 'mlserver-1']]]);

    h.scheduler.upsertModel(model('iris', { replicas: 2, storageUri: 'file:///models/iris-v2' }, 4));
    h.scheduler.flush();
    expect(a0.ops.map((o) => o.operation)).toEqual(['LOAD_MODEL']);
    expect(a0.ops[0].model.version).toBe(4);
    a0.answer();
    h.scheduler.flush();
    // v4 on one replica, v3 still on both: gateways split by endpoints.
    expect(h.endpoints('iris')).toEqual([
      [4, ['mlserver-0']],
      [3, ['mlserver-0', 'mlserver-1']],
    ]);
    expect(a0.ops).toEqual([]);
    a1.answer();
    h.scheduler.flush();
    expect([...a0.ops, ...a1.ops].map((o) => `${o.operation} ${o.model.version}`)).toEqual([
      'UNLOAD_MODEL 3',
      'UNLOAD_MODEL 3',
    ]);
    expect(h.endpoints('iris')).toEqual([[4, ['mlserver-0', 'mlserver-1']]]);
    h.settle([a0, a1]);
    expect(h.scheduler.models.get('iris')?.versions.map((v) => v.version)).toEqual([4]);
    expect([...a0.loaded]).toEqual(['iris_4']);
  });

  it('changes the replica count in place without a new version', () => {
    const h = harness();
    const agents = [0, 1, 2].map((i) => new FakeAgent(h.scheduler, 'mlserver', i).connect());
    h.scheduler.upsertModel(model('iris'));
    h.scheduler.markSynced();
    h.settle(agents);
    h.scheduler.upsertModel(model('iris', { replicas: 3 }));
    h.settle(agents);
    expect(h.endpoints('iris')).toEqual([[1, ['mlserver-0', 'mlserver-1', 'mlserver-2']]]);
    h.scheduler.upsertModel(model('iris', { replicas: 1 }));
    h.settle(agents);
    expect(h.endpoints('iris')?.[0][1]).toHaveLength(1);
    expect(agents.flatMap((a) => [...a.loaded])).toEqual(['iris_1']);
  });

  it('reschedules the models of an agent that disconnects', () => {
    const h = harness();
    const a0 = new FakeAgent(h.scheduler, 'mlserver', 0).connect();
    const a1 = new FakeAgent(h.scheduler, 'mlserver', 1).connect();
    h.scheduler.upsertModel(model('iris'));
    h.scheduler.markSynced();
    h.settle([a0, a1]);
    expect(h.endpoints('iris')).toEqual([[1, ['mlserver-0']]]);
    a0.disconnect();
    h.scheduler.flush();
    expect(h.table.models.has('iris')).toBe(false);
    h.settle([a1]);
    expect(h.endpoints('iris')).toEqual([[1, ['mlserver-1']]]);
  });

  it('drains a replica: resolves once its models serve elsewhere, the old copy serving meanwhile', async () => {
    const h = harness();
    const a0 = new FakeAgent(h.scheduler, 'mlserver', 0).connect();
    const a1 = new FakeAgent(h.scheduler, 'mlserver', 1).connect();
    h.scheduler.upsertModel(model('iris'));
    h.scheduler.markSynced();
    h.settle([a0, a1]);
    let drained: boolean | undefined;
    const p = h.scheduler.drain('mlserver', 0).then((ok) => {
      drained = ok;
    });
    h.scheduler.flush();
    await Promise.resolve();
    expect(drained).toBeUndefined();
    expect(h.endpoints('iris')).toEqual([[1, ['mlserver-0']]]);
    expect(a1.ops.map((o) => o.operation)).toEqual(['LOAD_MODEL']);
    a1.answer();
    h.scheduler.flush();
    await p;
    expect(drained).toBe(true);
    expect(h.endpoints('iris')).toEqual([[1, ['mlserver-1']]]);
  });

  it('drain resolves when the models have nowhere else to go', async () => {
    const h = harness();
    const a0 = new FakeAgent(h.scheduler, 'mlserver', 0).connect();
    h.scheduler.upsertModel(model('iris'));
    h.scheduler.markSynced();
    h.settle([a0]);
    const p = h.scheduler.drain('mlserver', 0, 5000);
    h.scheduler.flush();
    await expect(p).resolves.toBe(true);
    // The only copy keeps serving until the pod actually goes.
    expect(h.endpoints('iris')).toEqual([[1, ['mlserver-0']]]);
    expect(h.status.models.get('iris')?.conditions?.[0].status).toBe('True');
  });

  it('a restarted scheduler adopts what agents hold and unloads nothing', () => {
    const h = harness();
    const a0 = new FakeAgent(h.scheduler, 'mlserver', 0).connect();
    h.scheduler.upsertModel(model('iris', {}, 2));
    h.scheduler.upsertModel(model('wine', { storageUri: 'file:///w' }));
    h.scheduler.markSynced();
    h.settle([a0]);
    h.scheduler.upsertModel(model('iris', { storageUri: 'file:///models/iris2' }, 3));
    h.settle([a0]);
    const held = h.scheduler.models.get('iris')?.latest?.definition;
    const wine = h.scheduler.models.get('wine')?.latest?.definition;
    expect(held?.version).toBe(3);

    // New process: desired state first (generation 3 again gives version 3), then the agent.
    const h2 = harness();
    h2.scheduler.upsertServer(serverResource('mlserver', { replicas: 1 }));
    h2.scheduler.upsertModel(model('iris', { storageUri: 'file:///models/iris2' }, 3));
    h2.scheduler.upsertModel(model('wine', { storageUri: 'file:///w' }));
    h2.scheduler.markSynced();
    h2.scheduler.flush();
    const b0 = new FakeAgent(h2.scheduler, 'mlserver', 0);
    b0.connect([held, wine].filter((d) => d !== undefined));
    h2.scheduler.flush();
    expect(b0.ops).toEqual([]);
    expect(h2.endpoints('iris')).toEqual([[3, ['mlserver-0']]]);
    expect(h2.endpoints('wine')).toEqual([[1, ['mlserver-0']]]);
  });

  it('adopts a held version whose number differs from the generation (scaling bumped it)', () => {
    const h = harness();
    h.scheduler.upsertServer(serverResource('mlserver', { replicas: 1 }));
    h.scheduler.upsertModel(model('iris', { replicas: 1 }, 7));
    h.scheduler.markSynced();
    const desired = h.scheduler.models.get('iris')?.latest?.definition;
    if (!desired) throw new Error('iris has no version');
    const held = { ...desired, version: 2 };
    const a0 = new FakeAgent(h.scheduler, 'mlserver', 0).connect([held]);
    h.scheduler.flush();
    expect(a0.ops).toEqual([]);
    expect(h.endpoints('iris')).toEqual([[2, ['mlserver-0']]]);
    // The next spec change continues from the adopted number.
    h.scheduler.upsertModel(model('iris', { storageUri: 'file:///new' }, 8));
    h.scheduler.flush();
    expect(a0.ops.map((o) => o.model.version)).toEqual([3]);
  });

  it('waits for the expected agents before placing after a restart', () => {
    let t = 0;
    const status = harness().status;
    const s = new Scheduler({
      log: pino({ level: 'silent' }),
      status,
      autoFlush: false,
      waitForServersMs: 1000,
      now: () => t,
    });
    s.upsertServer(serverResource('mlserver', { replicas: 2 }));
    s.upsertModel(model('iris'));
    s.markSynced();
    const a0 = new FakeAgent(s, 'mlserver', 0).connect();
    s.flush();
    expect(a0.ops).toEqual([]);
    t = 1001;
    s.flush();
    expect(a0.ops).toHaveLength(1);
  });

  it('reports a failed load (bad artifact) in the model status', () => {
    const h = harness();
    const a0 = new FakeAgent(h.scheduler, 'mlserver', 0).connect();
    h.scheduler.upsertModel(model('broken'));
    h.scheduler.markSynced();
    h.settle([a0], { broken: 'artifact file:///models/broken not found' });
    const st = h.status.models.get('broken');
    expect(st?.conditions?.[0]).toMatchObject({
      type: 'ModelReady',
      status: 'False',
      reason: 'ModelFailed',
      message: 'load failed on mlserver-0: artifact file:///models/broken not found',
    });
    expect(h.table.models.has('broken')).toBe(false);
  });

  it('reports which filter rejected what when nothing fits, and retries when capacity arrives', () => {
    const h = harness();
    const a0 = new FakeAgent(h.scheduler, 'mlserver', 0, 1 * GiB).connect();
    h.scheduler.upsertModel(model('big', { memory: '2Gi' }));
    h.scheduler.upsertModel(model('onnx', { requirements: ['onnx'] }));
    h.scheduler.markSynced();
    h.settle([a0]);
    expect(h.status.models.get('big')?.conditions?.[0]).toMatchObject({ reason: 'ScheduleFailed' });
    expect(h.status.models.get('big')?.conditions?.[0].message).toContain('rejected by memory on replica 0');
    expect(h.status.models.get('onnx')?.conditions?.[0].message).toContain(
      'server mlserver: rejected by capabilities (missing capabilities onnx)',
    );
    const a1 = new FakeAgent(h.scheduler, 'mlserver', 1, 4 * GiB).connect();
    h.settle([a0, a1]);
    expect(h.endpoints('big')).toEqual([[1, ['mlserver-1']]]);
  });

  it('schedules partially down to minReplicas', () => {
    const h = harness();
    const agents = [0, 1].map((i) => new FakeAgent(h.scheduler, 'mlserver', i).connect());
    h.scheduler.upsertModel(model('iris', { replicas: 3, minReplicas: 2 }));
    h.scheduler.markSynced();
    h.settle(agents);
    expect(h.endpoints('iris')?.[0][1]).toHaveLength(2);
    expect(h.status.models.get('iris')).toMatchObject({
      availableReplicas: 2,
      conditions: [{ status: 'True', message: 'partially placed: 2 of 3 replicas on mlserver' }, {}],
    });
  });

  it('an inference server down behind a live agent: its replica leaves the routes, the model stays available down to minReplicas, and all serve again once the agent registers anew', () => {
    const h = harness();
    h.scheduler.upsertServer(serverResource('mlserver', { replicas: 2 }));
    const agents = [0, 1].map((i) => new FakeAgent(h.scheduler, 'mlserver', i).connect());
    h.scheduler.upsertModel(model('iris', { replicas: 2, minReplicas: 1 }));
    h.scheduler.upsertModel(model('strict', { replicas: 2 }));
    h.scheduler.markSynced();
    h.settle(agents);
    const replica1 = h.scheduler.servers.get('mlserver')?.replica(1);
    expect(replica1?.committedBytes).toBe(2 * GiB);
    const ready = (name: string) => h.status.models.get(name)?.conditions?.map((c) => c.status);

    agents[1].serverDown();
    h.scheduler.flush();
    const why = '1 of 2 replicas serve: the inference server of mlserver-1 stopped answering';
    expect(h.status.models.get('iris')).toMatchObject({
      replicas: 2,
      availableReplicas: 1,
      conditions: [
        { type: 'ModelReady', status: 'True', reason: 'ModelAvailable', message: why },
        { type: 'Ready', status: 'True', reason: 'ModelAvailable', message: why },
      ],
    });
    expect(h.status.models.get('strict')).toMatchObject({
      availableReplicas: 1,
      conditions: [{ status: 'False', reason: 'ModelProgressing', message: why }, { status: 'False' }],
    });
    expect(h.endpoints('iris')).toEqual([[1, ['mlserver-0']]]);
    expect(h.endpoints('strict')).toEqual([[1, ['mlserver-0']]]);
    // Nothing is re-placed, unloaded or released: the pod keeps its models for its server's return.
    expect(agents.flatMap((a) => a.ops)).toEqual([]);
    expect(replica1?.committedBytes).toBe(2 * GiB);
    expect(h.scheduler.describe().models[0].versions[0].replicas).toContainEqual({
      server: 'mlserver',
      idx: 1,
      state: 'ServerDown',
      reason: 'the inference server of mlserver-1 stopped answering',
    });

    agents[1].serverBack();
    h.scheduler.flush();
    expect(agents.flatMap((a) => a.ops)).toEqual([]); // adopted as held, nothing reloads
    for (const name of ['iris', 'strict']) {
      expect(h.endpoints(name)).toEqual([[1, ['mlserver-0', 'mlserver-1']]]);
      expect(h.status.models.get(name)?.availableReplicas).toBe(2);
      expect(ready(name)).toEqual(['True', 'True']);
      expect(h.status.models.get(name)?.conditions?.[0].message).toBeUndefined();
    }
  });

  it('a load sent while the inference server is down is placed again once it is back', () => {
    const h = harness();
    h.scheduler.upsertServer(serverResource('mlserver', { replicas: 2 }));
    const agents = [0, 1].map((i) => new FakeAgent(h.scheduler, 'mlserver', i).connect());
    h.scheduler.markSynced();
    agents[1].serverDown();
    h.scheduler.upsertModel(model('late', { replicas: 2 }));
    h.settle(agents);
    expect(h.status.models.get('late')?.conditions?.[0]).toMatchObject({
      status: 'False',
      reason: 'ModelProgressing',
      message: '1 of 2 replicas serve: the inference server of mlserver-1 stopped answering',
    });
    agents[1].serverBack();
    h.settle(agents);
    expect(h.endpoints('late')).toEqual([[1, ['mlserver-0', 'mlserver-1']]]);
    expect(h.status.models.get('late')?.conditions?.[0].status).toBe('True');
  });

  it('a restarted scheduler routes nothing to a pod whose inference server is down, and all once it is back', () => {
    const h = harness();
    const agents = [0, 1].map((i) => new FakeAgent(h.scheduler, 'mlserver', i).connect());
    h.scheduler.upsertModel(model('iris', { replicas: 2, minReplicas: 1 }));
    h.scheduler.markSynced();
    h.settle(agents);
    const held = h.scheduler.models.get('iris')?.latest?.definition;
    if (!held) throw new Error('iris not placed');

    // New process; replica 1's server went down before it reconnects.
    const h2 = harness();
    h2.scheduler.upsertServer(serverResource('mlserver', { replicas: 2 }));
    h2.scheduler.upsertModel(model('iris', { replicas: 2, minReplicas: 1 }));
    h2.scheduler.markSynced();
    const b0 = new FakeAgent(h2.scheduler, 'mlserver', 0).connect([held]);
    const b1 = new FakeAgent(h2.scheduler, 'mlserver', 1);
    b1.serverDown();
    b1.connect([held]);
    h2.scheduler.flush();
    expect([...b0.ops, ...b1.ops]).toEqual([]);
    expect(h2.endpoints('iris')).toEqual([[1, ['mlserver-0']]]);
    expect(h2.status.models.get('iris')).toMatchObject({
      availableReplicas: 1,
      conditions: [
        {
          status: 'True',
          message: '1 of 2 replicas serve: the inference server of mlserver-1 is down',
        },
        {},
      ],
    });
    b1.serverBack();
    h2.scheduler.flush();
    expect(h2.endpoints('iris')).toEqual([[1, ['mlserver-0', 'mlserver-1']]]);
    expect(h2.status.models.get('iris')?.availableReplicas).toBe(2);
  });

  it('places a new model on a pod whose inference server answers, not on one whose server is down', () => {
    const h = harness();
    const a0 = new FakeAgent(h.scheduler, 'mlserver', 0).connect();
    h.scheduler.upsertModel(model('iris'));
    h.scheduler.markSynced();
    h.settle([a0]);
    // Pod 1 (emptier, so spread's choice) registers while its server is down.
    const a1 = new FakeAgent(h.scheduler, 'mlserver', 1);
    a1.serverDown();
    a1.connect();
    h.scheduler.upsertModel(model('wine'));
    h.settle([a0, a1]);
    expect(h.endpoints('wine')).toEqual([[1, ['mlserver-0']]]);
  });

  it('a model deleted while a replica’s server is down is forgotten, and unloaded there once it is back', () => {
    const h = harness();
    const agents = [0, 1].map((i) => new FakeAgent(h.scheduler, 'mlserver', i).connect());
    h.scheduler.upsertModel(model('iris', { replicas: 2 }));
    h.scheduler.markSynced();
    h.settle(agents);
    agents[1].serverDown();
    h.scheduler.deleteModel('iris');
    h.settle(agents);
    expect(h.scheduler.models.has('iris')).toBe(false);
    expect(h.table.models.size).toBe(0);
    expect(h.scheduler.servers.get('mlserver')?.replica(1)?.committedBytes).toBe(0);
    agents[1].serverBack();
    h.settle(agents);
    expect(agents.map((a) => a.loaded.size)).toEqual([0, 0]);
  });

  it('unloads a deleted model and removes its route', () => {
    const h = harness();
    const a0 = new FakeAgent(h.scheduler, 'mlserver', 0).connect();
    h.scheduler.upsertModel(model('iris'));
    h.scheduler.markSynced();
    h.settle([a0]);
    h.scheduler.deleteModel('iris');
    h.settle([a0]);
    expect(h.table.models.size).toBe(0);
    expect(a0.loaded.size).toBe(0);
    expect(h.scheduler.models.has('iris')).toBe(false);
    expect(h.updates.at(-1)?.removedModels).toEqual(['iris']);
  });

  it('uses the policy annotated on the Server', () => {
    const h = harness();
    h.scheduler.upsertServer(
      serverResource('mlserver', { replicas: 2 }, { [PLACEMENT_POLICY_ANNOTATION]: 'best-fit' }),
    );
    const agents = [0, 1].map((i) => new FakeAgent(h.scheduler, 'mlserver', i).connect());
    h.scheduler.upsertModel(model('a'));
    h.scheduler.upsertModel(model('b'));
    h.scheduler.markSynced();
    h.settle(agents);
    expect(h.endpoints('a')).toEqual([[1, ['mlserver-0']]]);
    expect(h.endpoints('b')).toEqual([[1, ['mlserver-0']]]); // packed, where spread would use replica 1
  });

  it('reports an unusable spec in status instead of placing it', () => {
    const h = harness();
    const a0 = new FakeAgent(h.scheduler, 'mlserver', 0).connect();
    h.scheduler.upsertModel(model('bad', { memory: 'lots' }));
    h.scheduler.markSynced();
    h.settle([a0]);
    expect(a0.loaded.size).toBe(0);
    expect(h.status.models.get('bad')?.conditions?.[0]).toMatchObject({
      reason: 'InvalidSpec',
      message: expect.stringContaining('Model ns/bad: spec.memory: invalid quantity "lots"'),
    });
  });

  it('publishes experiments and pipeline readiness in the route table', () => {
    const h = harness();
    const a0 = new FakeAgent(h.scheduler, 'mlserver', 0).connect();
    h.scheduler.upsertExperiment({
      apiVersion: 'mlops.seldon.io/v1alpha1',
      kind: 'Experiment',
      metadata: { name: 'ab' },
      spec: {
        default: 'iris',
        candidates: [
          { name: 'iris', weight: 50 },
          { name: 'iris2', weight: 50 },
        ],
      },
    });
    h.scheduler.upsertPipeline({
      apiVersion: 'mlops.seldon.io/v1alpha1',
      kind: 'Pipeline',
      metadata: { name: 'p', generation: 2 },
      spec: { steps: [{ name: 'iris' }] },
    });
    h.scheduler.markSynced();
    h.scheduler.flush();
    expect(h.table.experiments.get('ab')?.candidates).toHaveLength(2);
    expect(h.table.pipelines.get('p')).toMatchObject({ version: 2, modelsReady: false });
    expect(h.status.experiments.get('ab')?.conditions?.[0]).toMatchObject({
      type: 'ExperimentReady',
      status: 'False',
      reason: 'ModelNotFound',
      message: 'model "iris" is not declared; model "iris2" is not declared',
    });
    expect(h.status.pipelines.get('p')?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      message: 'step "iris": model "iris" is not declared',
    });
    h.scheduler.upsertModel(model('iris'));
    h.scheduler.upsertModel(model('iris2'));
    h.settle([a0]);
    expect(h.table.pipelines.get('p')?.modelsReady).toBe(true);
    expect(h.status.experiments.get('ab')?.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual([
      'ExperimentReady=True',
      'CandidatesReady=True',
      'Ready=True',
    ]);
    expect(h.status.pipelines.get('p')?.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual([
      'PipelineReady=True',
      'PipelineGwReady=True',
      'ModelsReady=True',
      'Ready=True',
    ]);
  });
});
