import { describe, expect, it } from 'vitest';
import {
  canTransition,
  type ReplicaStatus,
  versionState,
} from '../../../src/runtime/scheduler/model-state.ts';

const rep = (state: ReplicaStatus['state'], idx = 0, reason = ''): ReplicaStatus => ({
  server: 's',
  idx,
  state,
  reason,
  wanted: true,
  updatedAt: idx,
});
const base = { latest: true, deleted: false, desiredReplicas: 2, minReplicas: 0, previousAvailable: false };

describe('replica transitions (every pair)', () => {
  const legal = new Set([
    'LoadRequested>Loading',
    'LoadRequested>UnloadRequested',
    'Loading>Available',
    'Loading>LoadFailed',
    'Loading>ServerDown',
    'Loading>UnloadRequested',
    'Available>UnloadRequested',
    'Available>LoadFailed',
    'Available>ServerDown',
    'LoadFailed>LoadRequested',
    'LoadFailed>UnloadRequested',
    'UnloadRequested>Unloading',
    'UnloadRequested>LoadRequested',
    'Unloading>UnloadFailed',
    'UnloadFailed>UnloadRequested',
  ]);
  const states: ReplicaStatus['state'][] = [
    'LoadRequested',
    'Loading',
    'Available',
    'LoadFailed',
    'ServerDown',
    'UnloadRequested',
    'Unloading',
    'UnloadFailed',
  ];
  for (const from of states) {
    for (const to of states) {
      it(`${from} → ${to}: ${legal.has(`${from}>${to}`) ? 'allowed' : 'ignored'}`, () => {
        expect(canTransition(from, to)).toBe(legal.has(`${from}>${to}`));
      });
    }
  }
});

describe('replica transitions', () => {
  it('allows the load and unload paths and rejects stale reports', () => {
    expect(canTransition('LoadRequested', 'Loading')).toBe(true);
    expect(canTransition('Loading', 'Available')).toBe(true);
    expect(canTransition('Available', 'UnloadRequested')).toBe(true);
    // The inference server under it stopped answering: not serving, not failed.
    expect(canTransition('Available', 'ServerDown')).toBe(true);
    // Back only by the agent registering again, never by a (stale) report.
    expect(canTransition('ServerDown', 'Available')).toBe(false);
    expect(canTransition('UnloadRequested', 'Unloading')).toBe(true);
    expect(canTransition('Unloading', 'Available')).toBe(false);
    expect(canTransition('Available', 'Available')).toBe(false);
    expect(canTransition('LoadFailed', 'LoadRequested')).toBe(true);
  });
});

describe('versionState', () => {
  it('is available when every desired replica is', () => {
    expect(versionState({ ...base, replicas: [rep('Available'), rep('Available', 1)] })).toMatchObject({
      state: 'ModelAvailable',
      available: 2,
    });
  });
  it('is progressing while replicas load, available on min replicas', () => {
    expect(versionState({ ...base, replicas: [rep('Available'), rep('Loading', 1)] }).state).toBe(
      'ModelProgressing',
    );
    expect(
      versionState({ ...base, minReplicas: 1, replicas: [rep('Available'), rep('Loading', 1)] }).state,
    ).toBe('ModelAvailable');
  });
  it('a new version with one replica up is available while the previous one still serves', () => {
    expect(
      versionState({ ...base, previousAvailable: true, replicas: [rep('Available'), rep('Loading', 1)] })
        .state,
    ).toBe('ModelAvailable');
  });
  it('reports the latest load failure', () => {
    const s = versionState({
      ...base,
      replicas: [rep('LoadFailed', 0, 'old'), rep('LoadFailed', 1, 'no such file')],
    });
    expect(s.state).toBe('ModelFailed');
    expect(s.reason).toBe('load failed on s-1: no such file');
  });
  it('a replica whose inference server is down is neither available nor failed', () => {
    const down = rep('ServerDown', 1, 'the inference server of s-1 stopped answering');
    const why = '1 of 2 replicas serve: the inference server of s-1 stopped answering';
    // Enough replicas serve for minReplicas: still available, the reason names the replica.
    expect(versionState({ ...base, minReplicas: 1, replicas: [rep('Available'), down] })).toEqual({
      state: 'ModelAvailable',
      reason: why,
      available: 1,
    });
    // Without minReplicas the model needs every desired replica.
    expect(versionState({ ...base, replicas: [rep('Available'), down] })).toEqual({
      state: 'ModelProgressing',
      reason: why,
      available: 1,
    });
    expect(versionState({ ...base, minReplicas: 1, replicas: [rep('ServerDown', 0), down] })).toEqual({
      state: 'ModelProgressing',
      reason:
        '0 of 2 replicas serve: the inference server of s-0 is down; the inference server of s-1 stopped answering',
      available: 0,
    });
    // A real load failure still wins.
    expect(versionState({ ...base, replicas: [rep('LoadFailed', 0, 'bad'), down] }).state).toBe(
      'ModelFailed',
    );
    // An old version whose pod is down is still held there.
    expect(versionState({ ...base, latest: false, replicas: [down] }).state).toBe('ModelTerminating');
  });
  it('schedule failure, scaled down, terminating and terminated', () => {
    expect(versionState({ ...base, replicas: [], scheduleFailure: 'no room' })).toMatchObject({
      state: 'ScheduleFailed',
      reason: 'no room',
    });
    expect(versionState({ ...base, desiredReplicas: 0, replicas: [] }).state).toBe('ModelScaledDown');
    expect(versionState({ ...base, latest: false, replicas: [rep('Unloading')] }).state).toBe(
      'ModelTerminating',
    );
    expect(versionState({ ...base, deleted: true, replicas: [] }).state).toBe('ModelTerminated');
    expect(versionState({ ...base, deleted: true, replicas: [rep('UnloadFailed', 0, 'x')] }).state).toBe(
      'ModelTerminateFailed',
    );
  });
});
