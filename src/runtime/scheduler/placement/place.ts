import { type Filter, REPLICA_FILTERS, SERVER_FILTERS } from './filters.ts';
import { compose, POLICIES, SERVER_SORTERS } from './sorters.ts';
import type { PlacementRequest, PlacementResult, PolicyName, ReplicaView, ServerView } from './types.ts';

const compareServers = compose(SERVER_SORTERS);
const compareReplicas: Record<PolicyName, (req: PlacementRequest, a: ReplicaView, b: ReplicaView) => number> =
  {
    spread: compose(POLICIES.spread),
    'best-fit': compose(POLICIES['best-fit']),
  };

/**
 * Chooses a server and `replicas` distinct pods of it for one model version.
 *
 * Servers passing every server filter are tried in sorter order; within a server, replicas passing
 * every replica filter are ranked by the server's policy and the best `replicas` taken (one replica
 * of a model per pod by construction). The first server with enough eligible replicas wins; if none
 * has, the first with at least `minReplicas` (when > 0) gets as many as it can (partial
 * scheduling). A single pass per server both counts and ranks, so a decision costs one scan of the
 * candidate replicas.
 */
export function place(req: PlacementRequest, servers: readonly ServerView[]): PlacementResult {
  const candidates: ServerView[] = [];
  for (const s of servers) if (passes(SERVER_FILTERS, req, s)) candidates.push(s);
  if (candidates.length > 1) candidates.sort((a, b) => compareServers(req, a, b));

  const want = Math.max(0, req.replicas);
  let partial: { server: string; replicas: number[] } | undefined;
  for (const server of candidates) {
    // Shortcut: no pod of a full server passes the memory filter (unless it holds the version).
    if (server.maxFreeBytes && req.currentServer !== server.name && server.maxFreeBytes() < req.memoryBytes) {
      continue;
    }
    const best = topEligible(req, server, want);
    if (best.length >= want) return { ok: true, server: server.name, replicas: best, partial: false };
    if (!partial && req.minReplicas > 0 && best.length >= req.minReplicas) {
      partial = { server: server.name, replicas: best };
    }
  }
  if (partial) return { ok: true, ...partial, partial: true };
  return { ok: false, reason: explainFailure(req, servers, candidates) };
}

function passes<T>(filters: readonly Filter<T>[], req: PlacementRequest, candidate: T): boolean {
  for (const f of filters) if (!f.accepts(req, candidate)) return false;
  return true;
}

/** Up to `k` best eligible replicas of `server`, best first (insertion into a short list). */
function topEligible(req: PlacementRequest, server: ServerView, k: number): number[] {
  const cmp = compareReplicas[server.policy];
  const best: ReplicaView[] = [];
  if (k === 0) return [];
  for (const r of server.replicas) {
    if (!passes(REPLICA_FILTERS, req, r)) continue;
    if (best.length === k && cmp(req, r, best[k - 1]) >= 0) continue;
    let i = best.length < k ? best.length : k - 1;
    while (i > 0 && cmp(req, r, best[i - 1]) < 0) {
      best[i] = best[i - 1];
      i--;
    }
    best[i] = r;
  }
  return best.map((r) => r.idx);
}

function explainFailure(
  req: PlacementRequest,
  servers: readonly ServerView[],
  candidates: ServerView[],
): string {
  const lines: string[] = [];
  for (const s of servers) {
    const rejectedBy = SERVER_FILTERS.find((f) => !f.accepts(req, s));
    if (rejectedBy) {
      lines.push(`server ${s.name}: rejected by ${rejectedBy.name} (${rejectedBy.explain(req, s)})`);
      continue;
    }
    const byFilter = new Map<string, string[]>();
    let eligible = 0;
    for (const r of s.replicas) {
      const f = REPLICA_FILTERS.find((x) => !x.accepts(req, r));
      if (!f) {
        eligible++;
        continue;
      }
      const list = byFilter.get(f.name) ?? [];
      list.push(`${r.idx}: ${f.explain(req, r)}`);
      byFilter.set(f.name, list);
    }
    const parts = [...byFilter].map(([name, rs]) => `rejected by ${name} on replica ${rs.join('; ')}`);
    lines.push(
      `server ${s.name}: ${eligible} of ${s.replicas.length} replicas eligible, ${req.replicas} needed${
        req.minReplicas > 0 ? ` (min ${req.minReplicas})` : ''
      }${parts.length ? `; ${parts.join('; ')}` : ''}`,
    );
  }
  if (lines.length === 0) return 'no servers are connected';
  const head = candidates.length === 0 ? 'no matching server' : 'no server had enough suitable replicas';
  return `${head}: ${lines.join(' | ')}`;
}
