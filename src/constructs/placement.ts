/**
 * Static placement feasibility: could the scheduler ever place this model on a server of the
 * app? Checks capabilities (requirements ⊆ capabilities), memory (model memory ≤ capacity plus
 * over-commit), replicas (a server replica hosts at most one replica of a model) and the fleet
 * (all models that can only go to some servers fit in those servers together). Servers declared
 * elsewhere (`fromName`) are checked against the attributes they declare; with none, trusted.
 */
import type { IConstruct } from 'constructs';
import { replicaCapacityBytes } from '../spec/rules.ts';
import type { IServer } from './interfaces.ts';
import { formatBytes } from './quantity.ts';
import { addRule, memoize, type Problem, type RuleContext } from './validation.ts';

/** What placement needs to know about a model. */
export interface PlaceableModel extends IConstruct {
  readonly kind: 'Model';
  readonly name: string;
  readonly namespace: string | undefined;
  readonly server: IServer | undefined;
  readonly memoryBytes: number | undefined;
  readonly effectiveRequirements: readonly string[];
  readonly requiredReplicas: number;
}

function isServer(c: IConstruct): c is IServer {
  return (c as Partial<IServer>).kind === 'Server' && 'overCommitPercentage' in c;
}

/** A `fromName` server that declares nothing: it may be anything, so nothing is checked against it. */
function trusted(server: IServer): boolean {
  return (
    server.external &&
    server.capabilities === undefined &&
    server.memoryBytes === undefined &&
    server.maxReplicaCount === undefined
  );
}

function missing(requirements: readonly string[], server: IServer): string[] {
  const caps = server.capabilities;
  if (caps === undefined) return [];
  return requirements.filter((r) => !caps.includes(r));
}

/** Bytes a server replica can promise, or undefined when unknown (then anything fits). */
function capacity(server: IServer): number | undefined {
  if (server.memoryBytes === undefined) return undefined;
  return replicaCapacityBytes(server.memoryBytes, server.overCommitPercentage ?? 0);
}

function describeCapacity(server: IServer): string {
  const oc = server.overCommitPercentage ?? 0;
  return `${formatBytes(server.memoryBytes ?? 0)} + ${oc}% over-commit = ${formatBytes(capacity(server) ?? 0)}`;
}

function replicaProblem(model: PlaceableModel, servers: IServer[]): Problem | undefined {
  const need = model.requiredReplicas;
  if (servers.length === 0 || servers.some((s) => (s.maxReplicaCount ?? Number.POSITIVE_INFINITY) >= need)) {
    return undefined;
  }
  const largest = [...servers].sort((a, b) => (b.maxReplicaCount ?? 0) - (a.maxReplicaCount ?? 0))[0];
  const which =
    servers.length === 1 ? `server "${largest.name}"` : `the largest matching server, "${largest.name}",`;
  return {
    field: 'replicas',
    value: need,
    message: `needs ${need} replicas but ${which} runs at most ${largest.maxReplicaCount} (one model replica per server replica)`,
    fix: "lower the model's replicas (or set minReplicas for partial scheduling), or raise the server's replicas or maxReplicas",
  };
}

function memoryProblem(model: PlaceableModel, servers: IServer[]): Problem | undefined {
  const need = model.memoryBytes;
  if (need === undefined || servers.length === 0) return undefined;
  if (servers.some((s) => (capacity(s) ?? Number.POSITIVE_INFINITY) >= need)) return undefined;
  const largest = [...servers].sort((a, b) => (capacity(b) ?? 0) - (capacity(a) ?? 0))[0];
  const which =
    servers.length === 1 ? `server "${largest.name}"` : `the largest matching server, "${largest.name}",`;
  return {
    field: 'memory',
    value: formatBytes(need),
    message: `is more than ${which} can hold (${describeCapacity(largest)})`,
    fix: "lower the model's memory, or raise the server's memory or overCommitPercentage",
  };
}

/** Servers of every namespace, indexed once per validation run. */
function serversIn(context: RuleContext, namespace: string | undefined): IServer[] {
  const index = memoize(context, serversIn, () => {
    const byNamespace = new Map<string | undefined, IServer[]>();
    for (const s of context.all.filter(isServer))
      byNamespace.set(s.namespace, [...(byNamespace.get(s.namespace) ?? []), s]);
    return byNamespace;
  });
  return index.get(namespace) ?? [];
}

function isPlaceableModel(c: IConstruct): c is PlaceableModel {
  return (c as Partial<PlaceableModel>).kind === 'Model' && 'requiredReplicas' in c;
}

/** The servers a model can go to; undefined when that is not known or another rule reports it. */
function candidates(model: PlaceableModel, servers: IServer[]): IServer[] | undefined {
  const pinned = model.server;
  if (pinned) return trusted(pinned) || pinned.namespace !== model.namespace ? undefined : [pinned];
  if (servers.some(trusted)) return undefined;
  return servers.filter((s) => missing(model.effectiveRequirements, s).length === 0);
}

/** Candidates of a model that fits on some server alone (a model that does not is reported by itself). */
function fleetCandidates(model: PlaceableModel, servers: IServer[]): IServer[] | undefined {
  const found = candidates(model, servers);
  const need = model.memoryBytes ?? 0;
  if (!found?.length || (model.server && missing(model.effectiveRequirements, model.server).length))
    return undefined;
  return found.some((s) => (capacity(s) ?? Number.POSITIVE_INFINITY) >= need) ? found : undefined;
}

/** Memory all replicas of a server can promise together; undefined when unknown. */
function poolCapacity(servers: readonly IServer[]): number | undefined {
  let total = 0;
  for (const s of servers) {
    const each = capacity(s);
    if (each === undefined || s.maxReplicaCount === undefined) return undefined;
    total += each * s.maxReplicaCount;
  }
  return total;
}

interface Pool {
  readonly servers: readonly IServer[];
  /** Models whose candidates are exactly these servers, in tree order. */
  readonly own: PlaceableModel[];
}

/**
 * Per pool of servers (the servers some model can go to), the models that can only go to servers
 * of the pool, against what the pool holds. Reported once, by the pool's first model.
 */
function fleetProblems(context: RuleContext): Map<PlaceableModel, Problem> {
  return memoize(context, fleetProblems, () => {
    const pools = new Map<string, Pool>();
    for (const model of context.all.filter(isPlaceableModel)) {
      const servers = fleetCandidates(model, serversIn(context, model.namespace));
      if (!servers) continue;
      const key = `${model.namespace}\0${servers
        .map((s) => s.node.path)
        .sort()
        .join('\0')}`;
      const pool = pools.get(key) ?? { servers, own: [] };
      pool.own.push(model);
      pools.set(key, pool);
    }
    const found = new Map<PlaceableModel, Problem>();
    for (const pool of pools.values()) {
      const available = poolCapacity(pool.servers);
      if (available === undefined) continue;
      const members = new Set(pool.servers);
      const confined = [...pools.values()]
        .filter((other) => other.servers.every((s) => members.has(s)))
        .flatMap((other) => other.own);
      const needed = confined.reduce((sum, m) => sum + (m.memoryBytes ?? 0) * m.requiredReplicas, 0);
      if (needed > available)
        found.set(pool.own[0], fleetProblem(pool.servers, confined.length, needed, available));
    }
    return found;
  });
}

function fleetProblem(
  servers: readonly IServer[],
  models: number,
  needed: number,
  available: number,
): Problem {
  const names = `server${servers.length === 1 ? '' : 's'} ${servers.map((s) => s.name).join(', ')}`;
  return {
    field: 'memory',
    value: formatBytes(needed),
    message: `${models} models can only be placed on ${names}, and together need ${formatBytes(needed)} (memory × replicas) but those servers hold ${formatBytes(available)} (memory × replicas × (1 + over-commit))`,
    fix: "lower these models' memory or replicas, or give the servers more replicas, memory or overCommitPercentage, or add a server with their capabilities",
  };
}

export function checkPlacement(model: PlaceableModel): void {
  addRule(model, (context) => {
    const pool = fleetProblems(context).get(model);
    return pool ? [pool] : [];
  });
  addRule(model, (context) => {
    const requirements = model.effectiveRequirements;
    const pinned = model.server;
    if (pinned) {
      if (trusted(pinned)) return [];
      if (pinned.namespace !== model.namespace) {
        return [
          {
            field: 'server',
            value: pinned.name,
            message: `server is in namespace "${pinned.namespace}" but the model is in "${model.namespace}"`,
            fix: 'pin a server of the same namespace',
          },
        ];
      }
      const lacking = missing(requirements, pinned);
      if (lacking.length) {
        return [
          {
            field: 'server',
            value: pinned.name,
            message: `pinned server lacks the requirements ${lacking.join(', ')} (it advertises ${pinned.capabilities?.join(', ') || 'nothing'})`,
            fix: 'add them to the server capabilities (or extraCapabilities), or pin a server that has them',
          },
        ];
      }
      return [memoryProblem(model, [pinned]), replicaProblem(model, [pinned])].filter((p) => p !== undefined);
    }
    const servers = serversIn(context, model.namespace);
    // No servers in this namespace: they are managed outside the app. Undeclared external ones: trusted.
    if (servers.length === 0 || servers.some(trusted)) return [];
    const matching = servers.filter((s) => missing(requirements, s).length === 0);
    if (matching.length === 0) {
      const offered = servers.map((s) => `${s.name} (${s.capabilities?.join(', ') || 'no capabilities'})`);
      return [
        {
          field: 'requirements',
          value: requirements,
          message: `no Server in namespace "${model.namespace}" provides all of them; servers: ${offered.join('; ')}`,
          fix: 'add a Server (or capabilities to one) that provides them, or change the requirements/modelType',
        },
      ];
    }
    return [memoryProblem(model, matching), replicaProblem(model, matching)].filter((p) => p !== undefined);
  });
}
