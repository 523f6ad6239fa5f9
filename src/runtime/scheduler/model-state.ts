/** Per-replica state of one model version (names as in Seldon's ModelReplicaState, plus
 * `ServerDown`: the replica holds the model but its inference server is not answering). */
export type ReplicaState =
  | 'LoadRequested'
  | 'Loading'
  | 'Available'
  | 'LoadFailed'
  | 'ServerDown'
  | 'UnloadRequested'
  | 'Unloading'
  | 'UnloadFailed';

/** Aggregate state of a model version (names as in Seldon's ModelState). */
export type ModelState =
  | 'ModelProgressing'
  | 'ModelAvailable'
  | 'ModelFailed'
  | 'ModelTerminating'
  | 'ModelTerminated'
  | 'ModelTerminateFailed'
  | 'ScheduleFailed'
  | 'ModelScaledDown';

export interface ReplicaStatus {
  readonly server: string;
  readonly idx: number;
  state: ReplicaState;
  reason: string;
  /** Chosen by the last placement; replicas not wanted are unloaded once the wanted ones serve. */
  wanted: boolean;
  updatedAt: number;
}

/** Legal transitions; anything else is a stale or duplicate report and is ignored. */
const NEXT: Record<ReplicaState, readonly ReplicaState[]> = {
  LoadRequested: ['Loading', 'UnloadRequested'],
  // A load sent while the replica's inference server is down: placed again once the pod registers
  // anew (see ServerDown).
  Loading: ['Available', 'LoadFailed', 'ServerDown', 'UnloadRequested'],
  Available: ['UnloadRequested', 'LoadFailed', 'ServerDown'],
  LoadFailed: ['LoadRequested', 'UnloadRequested'],
  // No way out by report: the agent registers anew once its server is back, which replaces the
  // replica's states with what it then holds (and clean-up drops an undesired one meanwhile).
  ServerDown: [],
  UnloadRequested: ['Unloading', 'LoadRequested'],
  Unloading: ['UnloadFailed'],
  UnloadFailed: ['UnloadRequested'],
};

export function canTransition(from: ReplicaState, to: ReplicaState): boolean {
  return NEXT[from].includes(to);
}

/** Moves `r` to `to` (stamped with the clock's time) if that is legal; false, and no change, if not. */
export function transition(r: ReplicaStatus, to: ReplicaState, reason: string, clock: () => number): boolean {
  if (!canTransition(r.state, to)) return false;
  r.state = to;
  r.reason = reason;
  r.updatedAt = clock();
  return true;
}

export interface VersionFacts {
  latest: boolean;
  deleted: boolean;
  replicas: Iterable<ReplicaStatus>;
  desiredReplicas: number;
  minReplicas: number;
  /** An older version is still available (so a partially available new one already serves). */
  previousAvailable: boolean;
  /** Why the last placement failed, when it did. */
  scheduleFailure?: string;
}

/** Aggregate state and reason of a version from its replicas: Seldon's rules (§2.4) plus one of
 * our own — a replica whose inference server is down is neither available nor failed. The version
 * then counts what still serves against what it needs (`minReplicas`, or every desired replica
 * without it), like any other shortfall, and the reason names each replica that is down. */
export function versionState(f: VersionFacts): { state: ModelState; reason: string; available: number } {
  let available = 0;
  let live = 0;
  let failed: ReplicaStatus | undefined;
  let unloadFailed: ReplicaStatus | undefined;
  const down: ReplicaStatus[] = [];
  for (const r of f.replicas) {
    if (r.state === 'Available') available++;
    if (r.state === 'LoadFailed' && (!failed || r.updatedAt > failed.updatedAt)) failed = r;
    if (r.state === 'UnloadFailed') unloadFailed = r;
    if (r.state === 'ServerDown') down.push(r);
    if (r.state !== 'LoadFailed') live++;
  }
  if (!f.latest || f.deleted) {
    if (unloadFailed) return { state: 'ModelTerminateFailed', reason: unloadFailed.reason, available };
    if (live > 0) return { state: 'ModelTerminating', reason: '', available };
    return { state: 'ModelTerminated', reason: '', available };
  }
  if (failed)
    return {
      state: 'ModelFailed',
      reason: `load failed on ${failed.server}-${failed.idx}: ${failed.reason}`,
      available,
    };
  if (f.desiredReplicas === 0 && f.minReplicas === 0 && available === 0) {
    return { state: 'ModelScaledDown', reason: '', available };
  }
  if (f.scheduleFailure && available === 0 && down.length === 0)
    return { state: 'ScheduleFailed', reason: f.scheduleFailure, available };
  const reason = [f.scheduleFailure, serversDown(down, available, f.desiredReplicas)]
    .filter((x) => x)
    .join('; ');
  if (
    (available > 0 && available >= f.desiredReplicas) ||
    (f.minReplicas > 0 && available >= f.minReplicas) ||
    (available > 0 && f.previousAvailable)
  ) {
    return { state: 'ModelAvailable', reason, available };
  }
  return { state: 'ModelProgressing', reason, available };
}

/** Why some replicas do not serve while their inference server is away, naming each of them. */
function serversDown(down: readonly ReplicaStatus[], available: number, desired: number): string {
  if (down.length === 0) return '';
  const why = [...down]
    .sort((a, b) => (a.server < b.server ? -1 : a.server > b.server ? 1 : a.idx - b.idx))
    .map((r) => r.reason || `the inference server of ${r.server}-${r.idx} is down`);
  return `${available} of ${Math.max(desired, available + down.length)} replicas serve: ${why.join('; ')}`;
}
