import type { PlacementRequest, PolicyName, ReplicaView, ServerView } from './types.ts';

/** A named preference: negative when `a` should be chosen before `b`. */
export interface Sorter<T> {
  readonly name: string;
  compare(req: PlacementRequest, a: T, b: T): number;
}

/** Prefer the server that already hosts the model, so a re-placement does not ping-pong. */
export const hostsModel: Sorter<ServerView> = {
  name: 'hosts-model',
  compare: (req, a, b) => Number(b.name === req.currentServer) - Number(a.name === req.currentServer),
};

export const serverName: Sorter<ServerView> = {
  name: 'server-name',
  compare: (_req, a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
};

export const SERVER_SORTERS: readonly Sorter<ServerView>[] = [hostsModel, serverName];

/** Replicas that already hold some version of the model first: no new download or load. Only
 * replicas of the model's current server can, which is checked before the map lookups. */
export const alreadyHolds: Sorter<ReplicaView> = {
  name: 'already-holds',
  compare: (req, a, b) =>
    req.currentServer !== a.serverName ? 0 : Number(b.models.has(req.name)) - Number(a.models.has(req.name)),
};

/** Replicas whose inference server answers first: a new copy there serves at once, while one
 * placed on a pod whose server is down waits for it. A filter instead would leave a model that
 * needs every pod unplaced for the whole outage. */
export const serverUp: Sorter<ReplicaView> = {
  name: 'server-up',
  compare: (_req, a, b) => Number(a.serverDown) - Number(b.serverDown),
};

/** Spreading: most free memory first (Seldon's rule; balances load, packs worst). */
export const mostFreeMemory: Sorter<ReplicaView> = {
  name: 'most-free-memory',
  compare: (_req, a, b) => b.capacityBytes - b.committedBytes - (a.capacityBytes - a.committedBytes),
};

/** Best fit: least free memory first (the filter already guaranteed the model fits). */
export const leastFreeMemory: Sorter<ReplicaView> = {
  name: 'least-free-memory',
  compare: (_req, a, b) => a.capacityBytes - a.committedBytes - (b.capacityBytes - b.committedBytes),
};

export const replicaIndex: Sorter<ReplicaView> = {
  name: 'replica-index',
  compare: (_req, a, b) => a.idx - b.idx,
};

/** Replica sorters per policy, most significant first. */
export const POLICIES: Record<PolicyName, readonly Sorter<ReplicaView>[]> = {
  spread: [alreadyHolds, serverUp, mostFreeMemory, replicaIndex],
  'best-fit': [alreadyHolds, serverUp, leastFreeMemory, replicaIndex],
};

/** Lexicographic composition: later sorters only break ties of earlier ones. */
export function compose<T>(sorters: readonly Sorter<T>[]): (req: PlacementRequest, a: T, b: T) => number {
  return (req, a, b) => {
    for (const s of sorters) {
      const c = s.compare(req, a, b);
      if (c !== 0) return c;
    }
    return 0;
  };
}
