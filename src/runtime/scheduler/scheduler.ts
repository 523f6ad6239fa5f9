import type { Logger } from 'pino';
import type {
  ExperimentResource,
  ModelResource,
  ModelStatus,
  PipelineResource,
  ServerResource,
  ServerStatus,
  StatusBase,
} from '../../spec/types.ts';
import type {
  AgentSubscribeRequest,
  LoadedModel,
  ModelDefinition,
  ModelEvent,
  ModelOperation,
  ModelRoute,
  RouteUpdate,
} from '../protocol/control.ts';
import { internalModelName } from '../protocol/control.ts';
import type { SchedulerMetrics } from './metrics.ts';
import { definitionOf, type Scaling, sameDefinition, scalingOf } from './model-spec.ts';
import {
  canTransition,
  type ModelState,
  type ReplicaState,
  type ReplicaStatus,
  versionState,
} from './model-state.ts';
import { place } from './placement/place.ts';
import type { PolicyName } from './placement/types.ts';
import { modelRoute, RoutePublisher } from './routes.ts';
import { ServerEntry, ServerReplica } from './servers.ts';
import {
  describeScheduler,
  experimentStatusOf,
  modelStatusOf,
  type SchedulerSummary,
  serverStatusOf,
} from './status.ts';

/** Annotation on a Server choosing its placement policy: `spread` (default) or `best-fit`. */
export const PLACEMENT_POLICY_ANNOTATION = 'mlops.cdk8s.io/placement-policy';

/** The scheduler's handle on one connected agent. */
export interface AgentLink {
  send(op: ModelOperation): void;
}

/** Where status goes: the Kubernetes API, or memory in local mode. */
export interface StatusSink {
  modelStatus(namespace: string, name: string, status: ModelStatus): void;
  serverStatus(namespace: string, name: string, status: ServerStatus): void;
  experimentStatus?(namespace: string, name: string, status: StatusBase): void;
}

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
  metrics?: SchedulerMetrics;
}

export class ModelVersion {
  readonly replicas = new Map<string, ReplicaStatus>();
  server = '';
  scheduleFailure?: string;
  /** The last placement found no room at all (not even partial). */
  unplaced = false;
  state: ModelState = 'ModelProgressing';
  reason = '';
  available = 0;

  constructor(public definition: ModelDefinition) {}

  get version(): number {
    return this.definition.version;
  }
}

export class ModelEntry {
  versions: ModelVersion[] = [];
  deleted = false;
  /** Undefined while only agents know the model (scheduler restart, before the source lists it). */
  resource?: ModelResource;
  scaling: Scaling = { replicas: 1, minReplicas: 0, maxReplicas: 0 };
  /** A spec the runtime cannot use (reported in status, nothing is placed). */
  invalid?: string;

  constructor(readonly name: string) {}

  get latest(): ModelVersion | undefined {
    return this.versions[this.versions.length - 1];
  }
}

const replicaKey = (server: string, idx: number) => `${server}/${idx}`;

export class Scheduler {
  readonly models = new Map<string, ModelEntry>();
  readonly servers = new Map<string, ServerEntry>();
  readonly experiments = new Map<string, ExperimentResource>();
  readonly pipelines = new Map<string, PipelineResource>();
  private serverList: ServerEntry[] = [];
  private readonly links = new Map<string, AgentLink>();
  private readonly dirty = new Set<string>();
  private readonly needsPlacement = new Set<string>();
  private readonly dirtyExperiments = new Set<string>();
  private readonly dirtyPipelines = new Set<string>();
  private readonly dirtyServers = new Set<string>();
  private readonly sentStatus = new Map<string, string>();
  private readonly afterFlush = new Set<() => void>();
  private synced = false;
  private readyAt = Number.POSITIVE_INFINITY;
  private flushQueued = false;
  private readyTimer?: NodeJS.Timeout;
  private readonly routes: RoutePublisher;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly autoFlush: boolean;
  private readonly waitForServersMs: number;

  constructor(private readonly opts: SchedulerOptions) {
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    this.autoFlush = opts.autoFlush ?? true;
    this.waitForServersMs = opts.waitForServersMs ?? 10_000;
    this.routes = new RoutePublisher(() => opts.metrics?.routeUpdates.inc());
  }

  // ---------------------------------------------------------------------------------------------
  // Desired state (from a source).

  upsertModel(res: ModelResource): void {
    const name = res.metadata.name;
    let model = this.models.get(name);
    if (model?.deleted) {
      this.log.warn({ model: name }, 'model re-created while its previous versions terminate');
    }
    let def: ModelDefinition;
    try {
      def = definitionOf(res, 0);
    } catch (err) {
      model ??= this.newModel(name);
      model.resource = res;
      model.invalid = (err as Error).message;
      this.log.error({ model: name, err: model.invalid }, 'invalid model spec');
      this.touch(name);
      return;
    }
    if (!model) model = this.newModel(name);
    model.invalid = undefined;
    const scaling = scalingOf(res.spec);
    const latest = model.latest;
    const firstSeen = !model.resource || model.deleted;
    model.resource = res;
    model.deleted = false;
    if (latest && sameDefinition(latest.definition, def)) {
      if (firstSeen || !sameScaling(model.scaling, scaling)) this.needsPlacement.add(name);
      latest.definition = { ...def, version: latest.version };
    } else {
      const version = latest ? latest.version + 1 : Math.max(1, res.metadata.generation ?? 1);
      model.versions.push(new ModelVersion({ ...def, version }));
      this.log.info({ model: name, version }, latest ? 'new model version' : 'model added');
      this.needsPlacement.add(name);
    }
    model.scaling = scaling;
    this.touch(name);
  }

  deleteModel(name: string): void {
    const model = this.models.get(name);
    if (!model) return;
    model.deleted = true;
    this.log.info({ model: name }, 'model deleted');
    this.needsPlacement.add(name);
    this.touch(name);
  }

  upsertServer(res: ServerResource): void {
    const server = this.server(res.metadata.name);
    const s = scalingOf(res.spec);
    const annotated = res.metadata.annotations?.[PLACEMENT_POLICY_ANNOTATION];
    const policy: PolicyName = annotated === 'best-fit' ? 'best-fit' : 'spread';
    if (annotated && annotated !== 'best-fit' && annotated !== 'spread') {
      this.log.warn(
        { server: server.name, value: annotated },
        `unknown ${PLACEMENT_POLICY_ANNOTATION}; using spread`,
      );
    }
    server.desired = { ...s, policy };
    server.namespace = res.metadata.namespace ?? '';
    this.retryUnplaced();
    this.dirtyServers.add(server.name);
    this.queueFlush();
  }

  deleteServer(name: string): void {
    const server = this.servers.get(name);
    if (!server) return;
    server.desired = { replicas: 0, minReplicas: 0, maxReplicas: 0, policy: server.policy };
    for (const m of this.modelsOn(name)) this.needsPlacement.add(m);
    this.dirtyServers.add(name);
    this.queueFlush();
  }

  upsertExperiment(res: ExperimentResource): void {
    this.experiments.set(res.metadata.name, res);
    this.dirtyExperiments.add(res.metadata.name);
    this.queueFlush();
  }

  deleteExperiment(name: string): void {
    this.experiments.delete(name);
    this.dirtyExperiments.add(name);
    this.queueFlush();
  }

  upsertPipeline(res: PipelineResource): void {
    this.pipelines.set(res.metadata.name, res);
    this.dirtyPipelines.add(res.metadata.name);
    this.queueFlush();
  }

  deletePipeline(name: string): void {
    this.pipelines.delete(name);
    this.dirtyPipelines.add(name);
    this.queueFlush();
  }

  /** The source has listed everything once: models the agents hold but nobody declares can go,
   * after giving expected agents `waitForServersMs` to reconnect. */
  markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    for (const m of this.models.values()) {
      if (!m.resource) {
        m.deleted = true;
        this.needsPlacement.add(m.name);
        this.dirty.add(m.name);
      }
    }
    this.readyAt = this.now() + this.waitForServersMs;
    if (this.autoFlush) {
      this.readyTimer = setTimeout(() => this.queueFlush(), this.waitForServersMs + 5);
      this.readyTimer.unref();
    }
    this.queueFlush();
  }

  /** Desired replicas changed by the autoscaler (in place: no new version). */
  setModelReplicas(name: string, replicas: number): void {
    const model = this.models.get(name);
    if (!model || model.scaling.replicas === replicas) return;
    model.scaling = { ...model.scaling, replicas };
    this.needsPlacement.add(name);
    this.touch(name);
  }

  // ---------------------------------------------------------------------------------------------
  // Agents.

  agentConnected(req: AgentSubscribeRequest, link: AgentLink): void {
    const server = this.server(req.serverName);
    const key = replicaKey(req.serverName, req.replicaIdx);
    if (server.replica(req.replicaIdx))
      this.dropReplica(req.serverName, req.replicaIdx, 'agent re-registered');
    const replica = new ServerReplica(req.serverName, req.replicaIdx, req.replicaConfig);
    server.addReplica(replica);
    this.links.set(key, link);
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
    this.dirtyServers.add(req.serverName);
    this.queueFlush();
  }

  /** Only acts if `link` is still the replica's current connection (a re-registration replaces it). */
  agentDisconnected(serverName: string, idx: number, link: AgentLink): void {
    if (this.links.get(replicaKey(serverName, idx)) !== link) return;
    this.dropReplica(serverName, idx, 'agent disconnected');
    this.retryUnplaced();
    this.queueFlush();
  }

  agentEvent(ev: ModelEvent): void {
    const model = this.models.get(ev.modelName);
    const version = model?.versions.find((v) => v.version === ev.modelVersion);
    const rep = version?.replicas.get(replicaKey(ev.serverName, ev.replicaIdx));
    const replica = this.servers.get(ev.serverName)?.replica(ev.replicaIdx);
    if (!model || !version || !rep || !replica) {
      this.log.warn({ event: ev }, 'event for an unknown model replica');
      if (ev.event === 'LOADED' && replica && model?.latest?.definition) {
        this.links.get(replicaKey(ev.serverName, ev.replicaIdx))?.send({
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
        if (this.transition(rep, 'Available', '')) this.log.info(at, 'model loaded');
        break;
      case 'LOAD_FAILED':
      case 'LOAD_FAIL_MEMORY':
        if (this.transition(rep, 'LoadFailed', ev.message || ev.event)) {
          replica.release(model.name, version.version, version.definition.memoryBytes);
          this.log.warn({ ...at, reason: ev.message }, 'model load failed');
        }
        break;
      case 'UNLOADED':
        if (rep.state === 'Unloading' || rep.state === 'UnloadFailed') {
          version.replicas.delete(replicaKey(ev.serverName, ev.replicaIdx));
          replica.release(model.name, version.version, version.definition.memoryBytes);
          this.log.info(at, 'model unloaded');
          if (version === model.latest) this.needsPlacement.add(model.name);
        }
        break;
      case 'UNLOAD_FAILED':
        this.transition(rep, 'UnloadFailed', ev.message);
        break;
      default:
        return;
    }
    this.dirtyServers.add(ev.serverName);
    this.touch(model.name);
  }

  /**
   * Marks the replica draining, moves its models elsewhere and resolves once each of them has an
   * available replica on another pod (or cannot be placed anywhere): only then may the pod stop.
   */
  drain(serverName: string, idx: number, timeoutMs = 120_000): Promise<boolean> {
    const replica = this.servers.get(serverName)?.replica(idx);
    if (!replica) return Promise.resolve(true);
    replica.draining = true;
    const models = [...replica.models.keys()];
    this.log.info({ server: serverName, replica: idx, models }, 'draining replica');
    for (const m of models) this.needsPlacement.add(m);
    for (const m of models) this.touch(m);
    const done = () =>
      models.every((name) => {
        const model = this.models.get(name);
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

  // ---------------------------------------------------------------------------------------------
  // Processing.

  get ready(): boolean {
    if (!this.synced) return false;
    if (this.now() >= this.readyAt) return true;
    for (const s of this.servers.values()) {
      if (s.desired && s.replicas.length < s.desired.replicas) return false;
    }
    return true;
  }

  /** Applies every pending change: placement, clean-up, routes, operations, status. */
  flush(): void {
    this.flushQueued = false;
    if (!this.ready) return;
    for (const name of [...this.needsPlacement].sort()) {
      const model = this.models.get(name);
      if (model) this.schedule(model);
      this.dirty.add(name);
    }
    this.needsPlacement.clear();
    const names = [...this.dirty].sort();
    this.dirty.clear();
    for (const name of names) {
      const model = this.models.get(name);
      if (model) this.cleanUp(model);
    }
    for (const name of names) {
      const model = this.models.get(name);
      if (model) this.updateState(model);
    }
    const experiments = names.length > 0 ? [...this.experiments.keys()] : [...this.dirtyExperiments];
    this.publishRoutes(names);
    for (const name of experiments.sort()) this.writeExperimentStatus(name);
    for (const name of names) {
      const model = this.models.get(name);
      if (model) this.dispatch(model);
    }
    for (const name of names) this.writeModelStatus(name);
    for (const name of [...this.dirtyServers].sort()) this.writeServerStatus(name);
    this.dirtyServers.clear();
    for (const name of names) {
      const model = this.models.get(name);
      if (model?.deleted && model.versions.length === 0) this.models.delete(name);
    }
    for (const fn of [...this.afterFlush]) fn();
  }

  private schedule(model: ModelEntry): void {
    const lv = model.latest;
    if (!lv) return;
    if (model.deleted || model.invalid) {
      for (const v of model.versions) for (const r of v.replicas.values()) r.wanted = false;
      return;
    }
    const desired = model.scaling.replicas;
    const currentServer = [...model.versions].reverse().find((v) => v.server !== '')?.server;
    const d = lv.definition;
    const started = performance.now();
    const result = place(
      {
        name: model.name,
        version: lv.version,
        requirements: d.requirements,
        memoryBytes: d.memoryBytes,
        server: d.server,
        replicas: desired,
        minReplicas: model.scaling.minReplicas,
        currentServer,
      },
      this.serverList,
    );
    const metrics = this.opts.metrics;
    metrics?.placementSeconds.observe((performance.now() - started) / 1000);
    metrics?.placements.inc({ result: !result.ok ? 'failed' : result.partial ? 'partial' : 'placed' });
    if (!result.ok) {
      lv.scheduleFailure = result.reason;
      lv.unplaced = true;
      this.log.warn(
        { model: model.name, version: lv.version, reason: result.reason },
        'model could not be placed',
      );
      return;
    }
    lv.unplaced = false;
    lv.scheduleFailure = result.partial
      ? `partially placed: ${result.replicas.length} of ${desired} replicas on ${result.server}`
      : undefined;
    lv.server = result.server;
    const chosen = new Set(result.replicas.map((i) => replicaKey(result.server, i)));
    for (const r of lv.replicas.values()) r.wanted = chosen.has(replicaKey(r.server, r.idx));
    const server = this.servers.get(result.server) as ServerEntry;
    for (const idx of result.replicas) {
      const key = replicaKey(result.server, idx);
      const existing = lv.replicas.get(key);
      // A replica that holds or is getting this version keeps it; only failed ones are retried.
      if (existing && existing.state !== 'LoadFailed') continue;
      lv.replicas.set(key, {
        server: result.server,
        idx,
        state: 'LoadRequested',
        reason: '',
        wanted: true,
        updatedAt: this.now(),
      });
      server.replica(idx)?.assign(model.name, lv.version, d.memoryBytes);
    }
    this.log.info(
      {
        model: model.name,
        version: lv.version,
        server: result.server,
        replicas: result.replicas,
        partial: result.partial,
      },
      'model placed',
    );
  }

  /** Make-before-break: unwanted replicas and older versions go only once every wanted replica
   * of the latest version is available (or immediately when the model is deleted / scaled to 0). */
  private cleanUp(model: ModelEntry): void {
    const lv = model.latest;
    if (!lv) return;
    const wanted = [...lv.replicas.values()].filter((r) => r.wanted);
    const settled =
      model.deleted ||
      !!model.invalid ||
      model.scaling.replicas === 0 ||
      (wanted.length > 0 && wanted.every((r) => r.state === 'Available'));
    for (const v of model.versions) {
      for (const r of [...v.replicas.values()]) {
        if (v === lv && (r.wanted || !settled)) continue;
        if (v !== lv && !settled) continue;
        if (r.state === 'LoadFailed') {
          v.replicas.delete(replicaKey(r.server, r.idx));
        } else if (r.state === 'LoadRequested') {
          v.replicas.delete(replicaKey(r.server, r.idx));
          this.servers
            .get(r.server)
            ?.replica(r.idx)
            ?.release(model.name, v.version, v.definition.memoryBytes);
        } else if (r.state === 'Available' || r.state === 'Loading') {
          this.transition(r, 'UnloadRequested', '');
        }
      }
    }
    model.versions = model.versions.filter((v) => v === lv || v.replicas.size > 0);
    if (model.deleted && lv.replicas.size === 0)
      model.versions = model.versions.filter((v) => v.replicas.size > 0);
  }

  private updateState(model: ModelEntry): void {
    const lv = model.latest;
    let previousAvailable = false;
    for (const v of model.versions) {
      const s = versionState({
        latest: v === lv,
        deleted: model.deleted,
        replicas: v.replicas.values(),
        desiredReplicas: model.scaling.replicas,
        minReplicas: model.scaling.minReplicas,
        previousAvailable,
        scheduleFailure: v.scheduleFailure,
      });
      if (v !== lv && s.available > 0) previousAvailable = true;
      if (s.state !== v.state || s.reason !== v.reason) {
        this.log.info(
          { model: model.name, version: v.version, state: s.state, reason: s.reason || undefined },
          'model state',
        );
      }
      v.state = s.state;
      v.reason = s.reason;
      v.available = s.available;
    }
  }

  private dispatch(model: ModelEntry): void {
    for (const v of model.versions) {
      for (const r of v.replicas.values()) {
        const link = this.links.get(replicaKey(r.server, r.idx));
        if (!link) continue;
        if (r.state === 'LoadRequested') {
          this.transition(r, 'Loading', '');
          link.send({ operation: 'LOAD_MODEL', model: v.definition });
        } else if (r.state === 'UnloadRequested') {
          this.transition(r, 'Unloading', '');
          link.send({ operation: 'UNLOAD_MODEL', model: v.definition });
        }
      }
    }
  }

  private publishRoutes(models: string[]): void {
    const modelRoutes = new Map<string, ModelRoute | undefined>();
    for (const name of models) {
      const model = this.models.get(name);
      modelRoutes.set(name, model ? modelRoute(model, this.servers) : undefined);
    }
    // Pipelines depend on their models' readiness: re-evaluate them all when models changed.
    const pipelineNames = new Set([
      ...(models.length > 0 ? this.pipelines.keys() : []),
      ...this.dirtyPipelines,
    ]);
    this.routes.publish({
      models: modelRoutes,
      experiments: new Map([...this.dirtyExperiments].sort().map((n) => [n, this.experiments.get(n)])),
      pipelines: new Map([...pipelineNames].sort().map((n) => [n, this.pipelines.get(n)])),
    });
    this.dirtyExperiments.clear();
    this.dirtyPipelines.clear();
  }

  private writeModelStatus(name: string): void {
    const model = this.models.get(name);
    const sink = this.opts.status;
    if (!sink || !model?.resource || model.deleted) return;
    const status = modelStatusOf(model);
    const key = `Model/${name}`;
    const text = JSON.stringify(status);
    if (this.sentStatus.get(key) === text) return;
    this.sentStatus.set(key, text);
    sink.modelStatus(model.resource.metadata.namespace ?? '', name, status);
  }

  private writeExperimentStatus(name: string): void {
    const e = this.experiments.get(name);
    const sink = this.opts.status;
    if (!sink?.experimentStatus || !e) return;
    const snapshot = this.routes.snapshot();
    const status = experimentStatusOf(
      e,
      new Set(snapshot.models.map((m) => m.name)),
      new Set(snapshot.pipelines.filter((p) => p.modelsReady).map((p) => p.name)),
    );
    const key = `Experiment/${name}`;
    const text = JSON.stringify(status);
    if (this.sentStatus.get(key) === text) return;
    this.sentStatus.set(key, text);
    sink.experimentStatus(e.metadata.namespace ?? '', name, status);
  }

  private writeServerStatus(name: string): void {
    const server = this.servers.get(name);
    const sink = this.opts.status;
    if (!sink || !server?.desired || server.desired.replicas === 0) return;
    const status = serverStatusOf(server, this.models);
    const key = `Server/${name}`;
    const text = JSON.stringify(status);
    if (this.sentStatus.get(key) === text) return;
    this.sentStatus.set(key, text);
    sink.serverStatus(server.namespace, name, status);
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers.

  private adopt(replica: ServerReplica, lm: LoadedModel, link: AgentLink): void {
    let model = this.models.get(lm.name);
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
      model = this.newModel(lm.name);
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
        for (const r of lv.replicas.values()) {
          this.servers
            .get(r.server)
            ?.replica(r.idx)
            ?.release(model.name, lv.version, lv.definition.memoryBytes);
        }
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
      state: 'Available',
      reason: '',
      wanted: version === model.latest,
      updatedAt: this.now(),
    });
    if (!version.server) version.server = replica.serverName;
    replica.assign(model.name, version.version, version.definition.memoryBytes);
    this.needsPlacement.add(model.name);
    this.touch(model.name);
  }

  private dropReplica(serverName: string, idx: number, why: string): void {
    const server = this.servers.get(serverName);
    const replica = server?.removeReplica(idx);
    this.links.delete(replicaKey(serverName, idx));
    if (!server || !replica) return;
    this.log.warn({ server: serverName, replica: idx, models: [...replica.models.keys()] }, why);
    for (const name of replica.models.keys()) {
      const model = this.models.get(name);
      if (!model) continue;
      for (const v of model.versions) v.replicas.delete(replicaKey(serverName, idx));
      this.needsPlacement.add(name);
      this.touch(name);
    }
    this.dirtyServers.add(serverName);
  }

  /** Models that are under-replicated or unplaced get another try when capacity may have changed. */
  private retryUnplaced(): void {
    for (const m of this.models.values()) {
      const lv = m.latest;
      if (!lv || m.deleted) continue;
      const live = [...lv.replicas.values()].filter((r) => r.wanted && r.state !== 'LoadFailed').length;
      if (lv.scheduleFailure || live < m.scaling.replicas) {
        this.needsPlacement.add(m.name);
        this.dirty.add(m.name);
      }
    }
  }

  private transition(r: ReplicaStatus, to: ReplicaState, reason: string): boolean {
    if (!canTransition(r.state, to)) return false;
    r.state = to;
    r.reason = reason;
    r.updatedAt = this.now();
    return true;
  }

  private modelsOn(server: string): string[] {
    const out: string[] = [];
    for (const m of this.models.values()) if (m.versions.some((v) => v.server === server)) out.push(m.name);
    return out;
  }

  private newModel(name: string): ModelEntry {
    const m = new ModelEntry(name);
    this.models.set(name, m);
    return m;
  }

  private server(name: string): ServerEntry {
    let s = this.servers.get(name);
    if (!s) {
      s = new ServerEntry(name);
      this.servers.set(name, s);
      this.serverList = [...this.servers.values()];
    }
    return s;
  }

  private touch(name: string): void {
    this.dirty.add(name);
    this.queueFlush();
  }

  private queueFlush(): void {
    if (!this.autoFlush || this.flushQueued) return;
    this.flushQueued = true;
    if (this.opts.batchMs) setTimeout(() => this.flush(), this.opts.batchMs);
    else setImmediate(() => this.flush());
  }

  /** A summary of servers and models for the health endpoint. */
  describe(): SchedulerSummary {
    return describeScheduler(this.servers, this.models);
  }

  close(): void {
    if (this.readyTimer) clearTimeout(this.readyTimer);
  }
}

function sameScaling(a: Scaling, b: Scaling): boolean {
  return a.replicas === b.replicas && a.minReplicas === b.minReplicas && a.maxReplicas === b.maxReplicas;
}
