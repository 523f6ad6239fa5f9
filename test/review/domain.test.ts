import { describe, expect, it } from 'vitest';
import { compareManifests } from '../../src/review/diff/compare.ts';
import { parseManifests } from '../../src/review/manifests.ts';

const obj = (kind: string, spec: string, apiVersion = 'mlops.seldon.io/v1alpha1') =>
  parseManifests(
    `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: {name: x, namespace: n}\nspec: ${spec}\n`,
    'f.yaml',
  );
const notes = (kind: string, before: string, after: string, apiVersion?: string) =>
  compareManifests(obj(kind, before, apiVersion), obj(kind, after, apiVersion)).objects[0]?.notes ?? [];

describe('domain lines', () => {
  it('experiment traffic shifts as shares of the total weight', () => {
    const b = '{candidates: [{name: iris, weight: 1}, {name: iris-v2, weight: 1}]}';
    const a = '{candidates: [{name: iris, weight: 1}, {name: iris-v2, weight: 4}]}';
    expect(notes('Experiment', b, a)).toEqual(['traffic iris 50% → 20%', 'traffic iris-v2 50% → 80%']);
  });

  it('weights that change without changing shares are not a traffic shift', () => {
    const b = '{candidates: [{name: a, weight: 1}, {name: b, weight: 1}]}';
    const a = '{candidates: [{name: a, weight: 5}, {name: b, weight: 5}]}';
    expect(notes('Experiment', b, a)).toEqual([]);
  });

  it('new and removed candidates, mirror and default changes', () => {
    const b =
      '{default: a, candidates: [{name: a, weight: 1}, {name: b, weight: 1}], mirror: {name: m, percent: 10}}';
    const a =
      '{default: c, candidates: [{name: a, weight: 2}, {name: c, weight: 1}], mirror: {name: m, percent: 50}}';
    expect(notes('Experiment', b, a)).toEqual([
      'traffic a 50% → 66.7%',
      'traffic c 0% → 33.3% (new candidate)',
      'traffic b 50% → 0% (candidate removed)',
      'mirror m 10% → 50%',
      'default (endpoint carrying the split) a → c',
    ]);
    expect(
      notes(
        'Experiment',
        '{candidates: [{name: a, weight: 1}]}',
        '{candidates: [{name: a, weight: 1}], mirror: {name: s, percent: 5}}',
      ),
    ).toEqual(['mirror 5% of requests to s']);
  });

  it('a new experiment states its split', () => {
    const r = compareManifests(
      [],
      obj('Experiment', '{candidates: [{name: a, weight: 3}, {name: b, weight: 1}]}'),
    );
    expect(r.objects[0].notes).toEqual(['traffic a 75%, b 25%']);
  });

  it('model replicas (default 1) and memory', () => {
    expect(
      notes('Model', '{storageUri: s, memory: 100Ki}', '{storageUri: s, replicas: 3, memory: 1Gi}'),
    ).toEqual(['memory 100Ki → 1Gi', 'replicas 1 → 3']);
    expect(
      notes(
        'Server',
        '{serverConfig: c, replicas: 2, maxReplicas: 4}',
        '{serverConfig: c, replicas: 2, maxReplicas: 8}',
      ),
    ).toEqual(['maxReplicas 4 → 8']);
  });

  it('model moved to another server or requirement set', () => {
    expect(notes('Model', '{storageUri: s, server: a}', '{storageUri: s, server: b}')).toEqual([
      'moves from server a → b',
    ]);
    expect(notes('Model', '{storageUri: s, server: a}', '{storageUri: s}')).toEqual([
      'no longer pinned to server a: the scheduler may move it',
    ]);
    expect(
      notes(
        'Model',
        '{storageUri: s, requirements: [sklearn]}',
        '{storageUri: s, requirements: [sklearn, gpu]}',
      ),
    ).toEqual(['requirements [sklearn] → [gpu, sklearn]: may be placed on another server']);
    expect(
      notes('Model', '{storageUri: s, requirements: [a, b]}', '{storageUri: s, requirements: [b, a]}'),
    ).toEqual([]);
  });

  it('workload replicas and container memory/cpu', () => {
    const dep = (replicas: number, mem: string) =>
      `{replicas: ${replicas}, template: {spec: {containers: [{name: app, image: i, resources: {limits: {memory: ${mem}}}}]}}}`;
    expect(notes('Deployment', dep(1, '1Gi'), dep(2, '2Gi'), 'apps/v1')).toEqual([
      'replicas 1 → 2',
      'container app memory limit 1Gi → 2Gi',
    ]);
    const noRes = '{template: {spec: {containers: [{name: app, image: i}]}}}';
    const withRes =
      '{template: {spec: {containers: [{name: app, image: i, resources: {requests: {cpu: 100m}}}]}}}';
    expect(notes('Deployment', noRes, withRes, 'apps/v1')).toEqual([
      'container app cpu request (unset) → 100m',
    ]);
  });

  it('pipeline steps and edges added or removed, join changes', () => {
    const b = '{steps: [{name: a}, {name: b, inputs: [a]}], output: {steps: [b]}}';
    const a =
      '{steps: [{name: a}, {name: c, inputs: [a.outputs.t]}, {name: b, inputs: [a, c], inputsJoinType: any, triggers: [c.outputs.flag]}], output: {steps: [b]}}';
    expect(notes('Pipeline', b, a)).toEqual([
      'step added: c',
      'edge added: a → c [t]',
      'edge added: c → b',
      'edge added: c → b (trigger) [flag]',
      'join at b: none → any',
    ]);
    expect(notes('Pipeline', a, b)).toContain('step removed: c');
    expect(notes('Pipeline', a, b)).toContain('edge removed: c → b (trigger) [flag]');
  });
});
