import type { ExperimentResource, PipelineResource } from '../../spec/types.ts';
import type { ModelOperation } from '../protocol/control.ts';
import { ModelEntry, type ModelView, replicaKey } from './models.ts';
import { ServerEntry, type ServerReplica } from './servers.ts';

/** The scheduler's handle on one connected agent. */
export interface AgentLink {
  send(op: ModelOperation): void;
}

/** What status, routes, metrics and the autoscaler read: the store, without a way to change it. */
export interface StoreView {
  readonly models: ReadonlyMap<string, ModelView>;
  readonly servers: ReadonlyMap<string, ServerEntry>;
  readonly experiments: ReadonlyMap<string, ExperimentResource>;
  readonly pipelines: ReadonlyMap<string, PipelineResource>;
}

/**
 * Everything the scheduler knows: models and their versions, servers and their connected pods,
 * experiments, pipelines and the agents' connections. Only the scheduler and its reconcile phases
 * change it; everyone else reads it through `StoreView`.
 */
export class SchedulerStore implements StoreView {
  readonly models = new Map<string, ModelEntry>();
  readonly servers = new Map<string, ServerEntry>();
  readonly experiments = new Map<string, ExperimentResource>();
  readonly pipelines = new Map<string, PipelineResource>();
  /** Agent connections by `replicaKey`. */
  readonly links = new Map<string, AgentLink>();
  /** The servers as one list, kept so each placement does not copy the map. */
  private list: ServerEntry[] = [];

  get serverList(): readonly ServerEntry[] {
    return this.list;
  }

  /** The named server, created (with no resource and no pods yet) when first mentioned. */
  server(name: string): ServerEntry {
    let s = this.servers.get(name);
    if (!s) {
      s = new ServerEntry(name);
      this.servers.set(name, s);
      this.list = [...this.servers.values()];
    }
    return s;
  }

  newModel(name: string): ModelEntry {
    const m = new ModelEntry(name);
    this.models.set(name, m);
    return m;
  }

  replica(server: string, idx: number): ServerReplica | undefined {
    return this.servers.get(server)?.replica(idx);
  }

  link(server: string, idx: number): AgentLink | undefined {
    return this.links.get(replicaKey(server, idx));
  }

  /** Gives back the memory a model version held on a pod. */
  release(server: string, idx: number, model: string, version: number, bytes: number): void {
    this.replica(server, idx)?.release(model, version, bytes);
  }

  /** Models with a version placed on `server`. */
  modelsOn(server: string): string[] {
    const out: string[] = [];
    for (const m of this.models.values()) if (m.versions.some((v) => v.server === server)) out.push(m.name);
    return out;
  }

  /** Models whose latest version is unplaced or has fewer live replicas than desired. */
  underPlaced(): string[] {
    const out: string[] = [];
    for (const m of this.models.values()) {
      const lv = m.latest;
      if (!lv || m.deleted) continue;
      const live = [...lv.replicas.values()].filter((r) => r.wanted && r.state !== 'LoadFailed').length;
      if (lv.scheduleFailure || live < m.scaling.replicas) out.push(m.name);
    }
    return out;
  }
}
