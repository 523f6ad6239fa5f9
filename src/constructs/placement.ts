/**
 * Static placement feasibility: could the scheduler ever place this model on a server of the
 * app? Checks capabilities (requirements ⊆ capabilities), memory (model memory ≤ capacity plus
 * over-commit) and replicas (a server replica hosts at most one replica of a model). Servers
 * declared elsewhere (`fromName`) are trusted.
 */
import type { IConstruct } from 'constructs';
import { replicaCapacityBytes } from '../spec/rules.ts';
import type { IServer } from './interfaces.ts';
import { formatBytes } from './quantity.ts';
import { addRule, memoize, type Problem, type RuleContext } from './validation.ts';

/** What placement needs to know about a model. */
export interface PlaceableModel extends IConstruct {
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

export function checkPlacement(model: PlaceableModel): void {
  addRule(model, (context) => {
    const requirements = model.effectiveRequirements;
    const pinned = model.server;
    if (pinned) {
      if (pinned.external) return [];
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
    // No servers in this namespace: they are managed outside the app. External ones: trusted.
    if (servers.length === 0 || servers.some((s) => s.external)) return [];
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
