import type { Logger } from 'pino';
import { PLACEMENT_POLICY_ANNOTATION } from '../../spec/annotations.ts';
import type {
  ExperimentResource,
  ModelResource,
  PipelineResource,
  ServerResource,
  StatusBase,
} from '../../spec/types.ts';
import type {
  AgentSubscribeRequest,
  LoadedModel,
  ModelDefinition,
  ModelEvent,
  RouteUpdate,
} from '../protocol/control.ts';
import { internalModelName } from '../protocol/control.ts';
import { SchedulerMetrics } from './metrics.ts';
import { definitionOf, type Scaling, sameDefinition, scalingOf } from './model-spec.ts';
import { transition } from './model-state.ts';
import { ModelVersion, type ModelView, replicaKey } from './models.ts';
import { PendingChanges, type PendingKind } from './pending-changes.ts';
import { dependentStatus } from './pipeline-status.ts';
import type { PolicyName } from './placement/types.ts';
import { Reconciler } from './reconcile.ts';
import { RoutePublisher } from './routes.ts';
import { type ServerEntry, ServerReplica } from './servers.ts';
import { describeScheduler, readinessOf, type SchedulerSummary } from './status.ts';
import { type StatusSink, StatusWriter } from './status-writer.ts';
import { type AgentLink, SchedulerStore } from './store.ts';

/** Annotation on a Server choosing its placement policy: `spread` (default) or `best-fit`. */

export interface SchedulerOptions {
  log: Logger;
  now?: () => number;
  status?: StatusSink;
  /** After the first listing of desired state, how long to wait for the expected agents to
   * reconnect before placing anything (so a restart re-adopts instead of re-placing). */
  waitForServersMs?: number;
  /** Flush batched changes after this window (default: next tick); tests turn `autoFlush` off
   * and call `flush()`. */
  autoFlush?: boolean;
  batchMs?: number;
}

/**
 * The scheduler: takes desired state from a source and reports from agents, records what changed
 * in the store and in one `PendingChanges`, and flushes those changes in batches through the
 * reconcile phases (placement, agent operations, routes, status).
 */
export class Scheduler {
  private readonly store = new SchedulerStore();
  private readonly pending = new PendingChanges();
  private readonly reconciler: Reconciler;
  private readonly afterFlush = new Set<() => void>();
  private readonly firstFlushWaiters: (() => void)[] = [];
  private flushedOnce = false;
  private synced = false;
  private readonly syncWaiters: (() => void)[] = [];
  private readyAt = Number.POSITIVE_INFINITY;
  private flushQueued = false;
  private readyTimer?: NodeJS.Timeout;
  private readonly routes: RoutePublisher;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly autoFlush: boolean;
  private readonly waitForServersMs: number;

  constructor(
    private readonly opts: SchedulerOptions,
    readonly metrics = new SchedulerMetrics(),
  ) {
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    this.autoFlush = opts.autoFlush ?? true;
    this.waitForServersMs = opts.waitForServersMs ?? 10_000;
    this.routes = new RoutePublisher(() => metrics.routeUpdates.inc());
    this.reconciler = new Reconciler({
      store: this.store,
      routes: this.routes,
      status: new StatusWriter(opts.status),
      metrics,
      log: this.log,
      now: this.now,
    });
    metrics.observe(this.store);
  }

  /** Read-only views of the store, for tests, health and the autoscaler. */
  get models(): ReadonlyMap<string, ModelView> {
    return this.store.models;
  }

  get servers(): ReadonlyMap<string, ServerEntry> {
    return this.store.servers;
  }

  // ---------------------------------------------------------------------------------------------
  // Desired state (from a source).

  upsertModel(res: ModelResource): void {
    const name = res.metadata.name;
    let model = this.store.models.get(name);
    if (model?.deleted) {
      this.log.warn({ model: name }, 'model re-created while its previous versions terminate');
    }
    let def: ModelDefinition;
    try {
      def = definitionOf(res, 0);
    } catch (err) {
      model ??= this.store.newModel(name);
      model.resource = res;
      model.invalid = (err as Error).message;
      this.log.error({ model: name, err: model.invalid }, 'invalid model spec');
      this.record('model', name);
      return;
    }
    if (!model) model = this.store.newModel(name);
    model.invalid = undefined;
    const scaling = scalingOf(res.spec);
    const latest = model.latest;
    const firstSeen = !model.resource || model.deleted;
    model.resource = res;
    model.deleted = false;
    if (latest && sameDefinition(latest.definition, def)) {
      if (firstSeen || !sameScaling(model.scaling, scaling)) this.pending.add('placement', name);
      latest.definition = { ...def, version: latest.version };
    } else {
      const version = latest ? latest.version + 1 : Math.max(1, res.metadata.generation ?? 1);
      model.versions.push(new ModelVersion({ ...def, version }));
      this.log.info({ model: name, version }, latest ? 'new model version' : 'model added');
      this.pending.add('placement', name);
    }
    model.scaling = scaling;
    this.record('model', name);
  }

  deleteModel(name: string): void {
    const model = this.store.models.get(name);
    if (!model) return;
    model.deleted = true;
    this.log.info({ model: name }, 'model deleted');
    this.record('placement', name);
  }

  upsertServer(res: ServerResource): void {
    const server = this.store.server(res.metadata.name);
    server.desired = { ...scalingOf(res.spec), policy: this.policyOf(res) };
    server.namespace = res.metadata.namespace ?? '';
    this.retryUnplaced();
    this.record('server', server.name);
  }

  deleteServer(name: string): void {
    const server = this.store.servers.get(name);
    if (!server) return;
    server.desired = { replicas: 0, minReplicas: 0, maxReplicas: 0, policy: server.policy };
    for (const m of this.store.modelsOn(name)) this.record('placement', m);
    this.record('server', name);
  }

  upsertExperiment(res: ExperimentResource): void {
    this.store.experiments.set(res.metadata.name, res);
    this.record('experiment', res.metadata.name);
  }

  deleteExperiment(name: string): void {
    this.store.experiments.delete(name);
    this.record('experiment', name);
  }

  upsertPipeline(res: PipelineResource): void {
    this.store.pipelines.set(res.metadata.name, res);
    this.record('pipeline', res.metadata.name);
  }

  deletePipeline(name: string): void {
    this.store.pipelines.delete(name);
    this.record('pipeline', name);
  }

  /** The source has listed everything once: models the agents hold but nobody declares can go,
   * after giving expected agents `waitForServersMs` to reconnect. */
  markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    for (const resolve of this.syncWaiters.splice(0)) resolve();
    for (const m of this.store.models.values()) {
      if (!m.resource) {
        m.deleted = true;
        this.pending.add('placement', m.name);
      }
    }
    this.readyAt = this.now() + this.waitForServersMs;
    if (this.autoFlush) {
      this.readyTimer = setTimeout(() => this.queueFlush(), this.waitForServersMs + 5);
      this.readyTimer.unref();
    }
    this.queueFlush();
  }

  /** Resolves once the source has listed everything (Servers included). */
  whenSynced(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** Why replica `idx` of Server `name` cannot exist (none declared, or beyond its replicas), if so. */
  replicaProblem(name: string, idx: number): string | undefined {
    const desired = this.store.servers.get(name)?.desired;
    if (!desired || (desired.replicas === 0 && desired.maxReplicas === 0))
      return `no Server "${name}" is declared in this namespace`;
    // An autoscaled Server may be scaling up to its maximum.
    const count = Math.max(desired.replicas, desired.maxReplicas);
    if (idx >= count) return `Server "${name}" has replicas 0..${count - 1}, not ${idx}`;
    return undefined;
  }

  /** Desired replicas changed by the autoscaler (in place: no new version). */
  setModelReplicas(name: string, replicas: number): void {
    const model = this.store.models.get(name);
    if (!model || model.scaling.replicas === replicas) return;
    model.scaling = { ...model.scaling, replicas };
    this.record('placement', name);
  }

  /** Desired pods of a Server changed by the autoscaler (nothing to flush: its pods come and go). */
  setServerReplicas(name: string, replicas: number): void {
    const server = this.store.servers.get(name);
    if (server?.desired) server.desired = { ...server.desired, replicas };
  }

  // ---------------------------------------------------------------------------------------------
  // Agents.

  agentConnected(req: AgentSubscribeRequest, link: AgentLink): void {
    const server = this.store.server(req.serverName);
    const key = replicaKey(req.serverName, req.replicaIdx);
    if (server.replica(req.replicaIdx))
      this.dropReplica(req.serverName, req.replicaIdx, 'agent re-registered');
    const replica = new ServerReplica(req.serverName, req.replicaIdx, req.replicaConfig);
    replica.serverDown = req.serverDown === true;
    server.addReplica(replica);
    this.store.links.set(key, link);
    this.log.info(
      {
        server: req.serverName,
        replica: req.replicaIdx,
        memoryBytes: req.replicaConfig.memoryBytes,
        capabilities: req.replicaConfig.capabilities,
        loaded: req.loadedModels.map((m) => internalModelName(m.name, m.version)),
      },
      'agent connected',
    );
    for (const lm of req.loadedModels) this.adopt(replica, lm, link);
    this.retryUnplaced();
    this.record('server', req.serverName);
  }

  /** Only acts if `link` is still the replica's current connection (a re-registration replaces it). */
  agentDisconnected(serverName: string, idx: number, link: AgentLink): void {
    if (this.store.link(serverName, idx) !== link) return;
    this.dropReplica(serverName, idx, 'agent disconnected');
    this.retryUnplaced();
    this.queueFlush();
  }

  agentEvent(ev: ModelEvent): void {
    const model = this.store.models.get(ev.modelName);
    const version = model?.versions.find((v) => v.version === ev.modelVersion);
    const rep = version?.replicas.get(replicaKey(ev.serverName, ev.replicaIdx));
    const replica = this.store.replica(ev.serverName, ev.replicaIdx);
    if (replica && ev.event === 'SERVER_DOWN') replica.serverDown = true;
    if (!model || !version || !rep || !replica) {
      this.log.warn({ event: ev }, 'event for an unknown model replica');
      if (ev.event === 'LOADED' && replica && model?.latest?.definition) {
        this.store.link(ev.serverName, ev.replicaIdx)?.send({
          operation: 'UNLOAD_MODEL',
          model: { ...model.latest.definition, version: ev.modelVersion },
        });
      }
      return;
    }
    const at = {
      model: ev.modelName,
      version: ev.modelVersion,
      server: ev.serverName,
      replica: ev.replicaIdx,
    };
    switch (ev.event) {
      case 'LOADED':
        if (transition(rep, 'Available', '', this.now)) this.log.info(at, 'model loaded');
        break;
      case 'LOAD_FAILED':
      case 'LOAD_FAIL_MEMORY':
        if (transition(rep, 'LoadFailed', ev.message || ev.event, this.now)) {
          replica.release(model.name, version.version, version.definition.memoryBytes);
          this.log.warn({ ...at, reason: ev.message }, 'model load failed');
        }
        break;
      case 'SERVER_DOWN':
        // The pod keeps the model (and its memory): the agent loads it again when its server is back.
        if (transition(rep, 'ServerDown', ev.message || ev.event, this.now))
          this.log.warn({ ...at, reason: ev.message }, 'model replica not serving: inference server down');
        break;
      case 'UNLOADED':
        if (rep.state === 'Unloading' || rep.state === 'UnloadFailed') {
          version.replicas.delete(replicaKey(ev.serverName, ev.replicaIdx));
          replica.release(model.name, version.version, version.definition.memoryBytes);
          this.log.info(at, 'model unloaded');
          if (version === model.latest) this.pending.add('placement', model.name);
        }
        break;
      case 'UNLOAD_FAILED':
        transition(rep, 'UnloadFailed', ev.message, this.now);
        break;
      default:
        return;
    }
    this.pending.add('server', ev.serverName);
    this.record('model', model.name);
  }

  /**
   * Marks the replica draining, moves its models elsewhere and resolves once each of them has an
   * available replica on another pod (or cannot be placed anywhere): only then may the pod stop.
   */
  drain(serverName: string, idx: number, timeoutMs = 120_000): Promise<boolean> {
    const replica = this.store.replica(serverName, idx);
    if (!replica) return Promise.resolve(true);
    replica.draining = true;
    const models = [...replica.models.keys()];
    this.log.info({ server: serverName, replica: idx, models }, 'draining replica');
    for (const m of models) this.record('placement', m);
    const done = () =>
      models.every((name) => {
        const model = this.store.models.get(name);
        const lv = model?.latest;
        if (!model || model.deleted || !lv) return true;
        // Nowhere else to go: the pod may stop (its copy serves until then).
        if (lv.unplaced) return true;
        return [...lv.replicas.values()].some(
          (r) => r.state === 'Available' && !(r.server === serverName && r.idx === idx),
        );
      });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.afterFlush.delete(check);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.afterFlush.delete(check);
        this.log.info({ server: serverName, replica: idx }, 'replica drained');
        resolve(true);
      };
      this.afterFlush.add(check);
      this.queueFlush();
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Route table.

  onRoutes(listener: (u: RouteUpdate) => void): () => void {
    return this.routes.subscribe(listener);
  }

  routeSnapshot(): RouteUpdate {
    return this.routes.snapshot();
  }

  /** Resolves after the first flush: the route table is then rebuilt from the agents' reports, so
   * a restarted (or newly elected) scheduler does not hand gateways an empty table. */
  whenRoutesRebuilt(): Promise<void> {
    if (this.flushedOnce) return Promise.resolve();
    return new Promise((resolve) => this.firstFlushWaiters.push(resolve));
  }

  // ---------------------------------------------------------------------------------------------
  // Processing.

  get ready(): boolean {
    if (!this.synced) return false;
    if (this.now() >= this.readyAt) return true;
    for (const s of this.store.servers.values()) {
      if (s.desired && s.replicas.length < s.desired.replicas) return false;
    }
    return true;
  }

  /** Applies every pending change (see `Reconciler` for the phases and their order). */
  flush(): void {
    this.flushQueued = false;
    if (!this.ready) return;
    this.reconciler.run(this.pending);
    this.flushedOnce = true;
    for (const w of this.firstFlushWaiters.splice(0)) w();
    for (const fn of [...this.afterFlush]) fn();
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers.

  /** Takes over a version the pod holds (not serving while the pod's inference server is down). */
  private adopt(replica: ServerReplica, lm: LoadedModel, link: AgentLink): void {
    let model = this.store.models.get(lm.name);
    const def = lm.model ? { ...lm.model, version: lm.version } : undefined;
    if (!model) {
      if (this.synced || !def) {
        this.log.info(
          { model: lm.name, version: lm.version },
          'agent holds an undeclared model: unloading it',
        );
        if (def) link.send({ operation: 'UNLOAD_MODEL', model: def });
        return;
      }
      model = this.store.newModel(lm.name);
    }
    let version = model.versions.find((v) => v.version === lm.version);
    if (!version) {
      const lv = model.latest;
      const lvIdle =
        lv && [...lv.replicas.values()].every((r) => r.state === 'LoadRequested' || r.state === 'LoadFailed');
      const newest = model.versions.every((v) => v === lv || v.version < lm.version);
      if (lv && def && sameDefinition(lv.definition, def) && lvIdle && newest) {
        // Same spec as the version we just created: the agent's number wins so nothing reloads
        // (the resource's generation also moves on scaling changes, so it may be ahead).
        for (const r of lv.replicas.values())
          this.store.release(r.server, r.idx, model.name, lv.version, lv.definition.memoryBytes);
        lv.replicas.clear();
        lv.definition = { ...lv.definition, version: lm.version };
        version = lv;
      } else if (def) {
        version = new ModelVersion(def);
        model.versions.push(version);
        model.versions.sort((a, b) => a.version - b.version);
        // An older copy than the desired spec stays until the latest is available.
        if (lv && version !== model.latest && !sameDefinition(lv.definition, def)) {
          this.log.info({ model: lm.name, version: lm.version }, 'adopted an older version');
        }
      } else return;
    }
    version.replicas.set(replicaKey(replica.serverName, replica.idx), {
      server: replica.serverName,
      idx: replica.idx,
      state: replica.serverDown ? 'ServerDown' : 'Available',
      reason: '',
      wanted: version === model.latest,
      updatedAt: this.now(),
    });
    if (!version.server) version.server = replica.serverName;
    replica.assign(model.name, version.version, version.definition.memoryBytes);
    this.record('placement', model.name);
  }

  private dropReplica(serverName: string, idx: number, why: string): void {
    const server = this.store.servers.get(serverName);
    const replica = server?.removeReplica(idx);
    this.store.links.delete(replicaKey(serverName, idx));
    if (!server || !replica) return;
    this.log.warn({ server: serverName, replica: idx, models: [...replica.models.keys()] }, why);
    for (const name of replica.models.keys()) {
      const model = this.store.models.get(name);
      if (!model) continue;
      for (const v of model.versions) v.replicas.delete(replicaKey(serverName, idx));
      this.record('placement', name);
    }
    this.pending.add('server', serverName);
  }

  /** Models that are under-replicated or unplaced get another try when capacity may have changed. */
  private retryUnplaced(): void {
    for (const name of this.store.underPlaced()) this.pending.add('placement', name);
  }

  /** Records a change for the next flush and makes sure one follows. */
  private record(kind: PendingKind, name: string): void {
    this.pending.add(kind, name);
    this.queueFlush();
  }

  private policyOf(res: ServerResource): PolicyName {
    const annotated = res.metadata.annotations?.[PLACEMENT_POLICY_ANNOTATION];
    if (annotated && annotated !== 'best-fit' && annotated !== 'spread') {
      this.log.warn(
        { server: res.metadata.name, value: annotated },
        `unknown ${PLACEMENT_POLICY_ANNOTATION}; using spread`,
      );
    }
    return annotated === 'best-fit' ? 'best-fit' : 'spread';
  }

  private queueFlush(): void {
    if (!this.autoFlush || this.flushQueued) return;
    this.flushQueued = true;
    if (this.opts.batchMs) setTimeout(() => this.flush(), this.opts.batchMs);
    else setImmediate(() => this.flush());
  }

  /** A summary of servers and models for the health endpoint. */
  describe(): SchedulerSummary {
    const { store } = this;
    const status = dependentStatus(store, { has: (name) => this.routes.hasModel(name) });
    const summary = (m: Map<string, StatusBase>) => [...m].map(([name, s]) => readinessOf(name, s));
    return describeScheduler(store.servers, store.models, {
      pipelines: summary(status.pipelines),
      experiments: summary(status.experiments),
    });
  }

  close(): void {
    if (this.readyTimer) clearTimeout(this.readyTimer);
  }
}

function sameScaling(a: Scaling, b: Scaling): boolean {
  return a.replicas === b.replicas && a.minReplicas === b.minReplicas && a.maxReplicas === b.maxReplicas;
}
