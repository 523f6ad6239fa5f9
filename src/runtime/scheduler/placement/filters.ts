import type { PlacementRequest, ReplicaView, ServerView } from './types.ts';

/** A named yes/no test; `explain` is only called to build the reason when nothing fits. */
export interface Filter<T> {
  readonly name: string;
  accepts(req: PlacementRequest, candidate: T): boolean;
  explain(req: PlacementRequest, candidate: T): string;
}

export const hasReplicas: Filter<ServerView> = {
  name: 'has-replicas',
  accepts: (_req, s) => s.replicas.length > 0,
  explain: () => 'no replica connected',
};

export const pinnedServer: Filter<ServerView> = {
  name: 'pinned-server',
  accepts: (req, s) => req.server === '' || req.server === s.name,
  explain: (req) => `model is pinned to server "${req.server}"`,
};

export const notDeleted: Filter<ServerView> = {
  name: 'not-deleted',
  accepts: (_req, s) => s.expectedReplicas !== 0,
  explain: () => 'server is being deleted (0 replicas expected)',
};

export const capabilities: Filter<ServerView> = {
  name: 'capabilities',
  accepts: (req, s) => {
    for (const r of req.requirements) if (!s.capabilities.has(r)) return false;
    return true;
  },
  explain: (req, s) =>
    `missing capabilities ${req.requirements.filter((r) => !s.capabilities.has(r)).join(', ')}`,
};

export const SERVER_FILTERS: readonly Filter<ServerView>[] = [
  hasReplicas,
  pinnedServer,
  notDeleted,
  capabilities,
];

export const notDraining: Filter<ReplicaView> = {
  name: 'not-draining',
  accepts: (_req, r) => !r.draining,
  explain: () => 'draining',
};

/** Free memory counts loads still in flight as used; a replica that already holds this exact
 * version needs nothing more (only possible on the server currently hosting the model, which is
 * checked first because it is much cheaper than the map lookup). */
export const memory: Filter<ReplicaView> = {
  name: 'memory',
  accepts: (req, r) =>
    r.capacityBytes - r.committedBytes >= req.memoryBytes ||
    (req.currentServer === r.serverName && holdsVersion(r, req.name, req.version)),
  explain: (req, r) =>
    `needs ${req.memoryBytes} bytes, ${Math.max(0, r.capacityBytes - r.committedBytes)} free`,
};

export const REPLICA_FILTERS: readonly Filter<ReplicaView>[] = [notDraining, memory];

export function holdsVersion(r: ReplicaView, model: string, version: number): boolean {
  return r.models.get(model)?.has(version) === true;
}
