import type { Logger } from 'pino';
import type { ModelRoute } from '../protocol/control.ts';
import type { SchedulerMetrics } from './metrics.ts';
import { transition, versionState } from './model-state.ts';
import { type ModelEntry, type ModelVersion, replicaKey } from './models.ts';
import type { PendingChanges } from './pending-changes.ts';
import { dependentStatus } from './pipeline-status.ts';
import { place } from './placement/place.ts';
import type { Placement } from './placement/types.ts';
import { modelRoute, type RoutePublisher } from './routes.ts';
import { modelStatusOf, serverStatusOf } from './status.ts';
import type { StatusWriter } from './status-writer.ts';
import type { SchedulerStore } from './store.ts';

export interface ReconcileDeps {
  store: SchedulerStore;
  routes: RoutePublisher;
  status: StatusWriter;
  metrics: SchedulerMetrics;
  log: Logger;
  now: () => number;
}

/**
 * Turns pending changes into placements, agent operations, routes and status. `run` is one
 * flush; its phases go in this order, each for the reason given:
 *
 * | # | phase                | why here                                                          |
 * |---|----------------------|-------------------------------------------------------------------|
 * | 1 | place                | later phases work on the replicas it chose; placed = changed      |
 * | 2 | clean up             | make-before-break needs the replicas placement just wanted        |
 * | 3 | derive state         | counts the replicas as clean-up left them                         |
 * | 4 | publish routes       | a replica leaves the routes before its unload is sent (6)         |
 * | 5 | pipeline, experiment | read the route table just published                               |
 * |   | status               |                                                                   |
 * | 6 | send operations      | after the routes (see 4)                                          |
 * | 7 | model, server status | nothing later changes what they report; API writes can wait most |
 * | 8 | forget deleted       | once every phase above has seen the model's final state           |
 */
export class Reconciler {
  constructor(private readonly deps: ReconcileDeps) {}

  run(pending: PendingChanges): void {
    const { store } = this.deps;
    for (const name of pending.take('placement')) {
      const model = store.models.get(name);
      if (model) this.placeLatest(model);
      pending.add('model', name);
    }
    const names = pending.take('model');
    const models = names.map((n) => store.models.get(n)).filter((m) => m !== undefined);
    for (const model of models) this.cleanUp(model);
    for (const model of models) this.deriveState(model);
    const experiments = pending.take('experiment');
    const pipelines = pending.take('pipeline');
    this.publishRoutes(names, experiments, pipelines);
    this.writeDependentStatus(names.length > 0, pipelines, experiments);
    for (const model of models) this.sendOperations(model);
    this.writeModelStatus(models);
    this.writeServerStatus(pending.take('server'));
    for (const model of models) {
      if (model.deleted && model.versions.length === 0) store.models.delete(model.name);
    }
  }

  /** Phase 1: where the latest version's replicas go (or why they cannot). Older versions stay
   * where they are; a deleted or invalid model wants no replica at all. */
  private placeLatest(model: ModelEntry): void {
    const lv = model.latest;
    if (!lv) return;
    if (model.deleted || model.invalid) {
      for (const v of model.versions) for (const r of v.replicas.values()) r.wanted = false;
      return;
    }
    const { metrics, log, store } = this.deps;
    const desired = model.scaling.replicas;
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
        currentServer: [...model.versions].reverse().find((v) => v.server !== '')?.server,
      },
      store.serverList,
    );
    metrics.placementSeconds.observe((performance.now() - started) / 1000);
    metrics.placements.inc({ result: !result.ok ? 'failed' : result.partial ? 'partial' : 'placed' });
    if (!result.ok) {
      lv.scheduleFailure = result.reason;
      lv.unplaced = true;
      log.warn(
        { model: model.name, version: lv.version, reason: result.reason },
        'model could not be placed',
      );
      return;
    }
    lv.unplaced = false;
    lv.scheduleFailure = result.partial
      ? `partially placed: ${result.replicas.length} of ${desired} replicas on ${result.server}`
      : undefined;
    this.assign(model, lv, result);
    log.info(
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

  /** Marks the chosen replicas wanted (the others not) and requests loads where needed. */
  private assign(model: ModelEntry, lv: ModelVersion, result: Placement): void {
    const { store, now } = this.deps;
    lv.server = result.server;
    const chosen = new Set(result.replicas.map((i) => replicaKey(result.server, i)));
    for (const r of lv.replicas.values()) r.wanted = chosen.has(replicaKey(r.server, r.idx));
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
        updatedAt: now(),
      });
      store.replica(result.server, idx)?.assign(model.name, lv.version, lv.definition.memoryBytes);
    }
  }

  /** Phase 2, make-before-break: unwanted replicas and older versions go only once every wanted
   * replica of the latest version is available (or at once when the model is deleted or scaled to 0). */
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
        } else if (r.state === 'LoadRequested' || r.state === 'ServerDown') {
          // A pod whose inference server is down could not carry out an unload; it registers anew
          // when the server is back, and what it then holds is unloaded as any undesired copy.
          v.replicas.delete(replicaKey(r.server, r.idx));
          this.deps.store.release(r.server, r.idx, model.name, v.version, v.definition.memoryBytes);
        } else if (r.state === 'Available' || r.state === 'Loading') {
          transition(r, 'UnloadRequested', '', this.deps.now);
        }
      }
    }
    model.versions = model.versions.filter((v) => v === lv || v.replicas.size > 0);
    if (model.deleted && lv.replicas.size === 0)
      model.versions = model.versions.filter((v) => v.replicas.size > 0);
  }

  /** Phase 3: each version's aggregate state from its replicas. */
  private deriveState(model: ModelEntry): void {
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
        this.deps.log.info(
          { model: model.name, version: v.version, state: s.state, reason: s.reason || undefined },
          'model state',
        );
      }
      v.state = s.state;
      v.reason = s.reason;
      v.available = s.available;
    }
  }

  /** Phase 4: one incremental route update for the changed models, experiments and pipelines. */
  private publishRoutes(models: string[], experiments: string[], pipelines: string[]): void {
    const { store, routes } = this.deps;
    const modelRoutes = new Map<string, ModelRoute | undefined>();
    for (const name of models) {
      const model = store.models.get(name);
      modelRoutes.set(name, model ? modelRoute(model, store.servers) : undefined);
    }
    // Pipelines depend on their models' readiness: re-evaluate them all when models changed.
    const pipelineNames = new Set([...(models.length > 0 ? store.pipelines.keys() : []), ...pipelines]);
    routes.publish({
      models: modelRoutes,
      experiments: new Map(experiments.map((n) => [n, store.experiments.get(n)])),
      pipelines: new Map([...pipelineNames].sort().map((n) => [n, store.pipelines.get(n)])),
    });
  }

  /** Phase 6: sends the loads and unloads phases 1 and 2 requested to connected agents. */
  private sendOperations(model: ModelEntry): void {
    const { store, now } = this.deps;
    for (const v of model.versions) {
      for (const r of v.replicas.values()) {
        const link = store.link(r.server, r.idx);
        if (!link) continue;
        if (r.state === 'LoadRequested') {
          transition(r, 'Loading', '', now);
          link.send({ operation: 'LOAD_MODEL', model: v.definition });
        } else if (r.state === 'UnloadRequested') {
          transition(r, 'Unloading', '', now);
          link.send({ operation: 'UNLOAD_MODEL', model: v.definition });
        }
      }
    }
  }

  /**
   * Phase 5: pipelines depend on their models' routes and experiments on their candidates, so a
   * change of any model re-evaluates every pipeline, and of any model or pipeline every experiment
   * (the writer sends only what differs). Deleted ones are forgotten: re-created, they are written.
   */
  private writeDependentStatus(modelsChanged: boolean, pipelines: string[], experiments: string[]): void {
    const { store, status, routes } = this.deps;
    for (const name of pipelines) if (!store.pipelines.has(name)) status.forget('Pipeline', name);
    for (const name of experiments) if (!store.experiments.has(name)) status.forget('Experiment', name);
    if (!status.writes('Pipeline') && !status.writes('Experiment')) return;
    const now = dependentStatus(store, { has: (name) => routes.hasModel(name) });
    const changedPipelines = new Set(pipelines);
    const changedExperiments = new Set(experiments);
    const allExperiments = modelsChanged || pipelines.length > 0;
    if (status.writes('Pipeline')) {
      for (const [name, s] of now.pipelines) {
        if (modelsChanged || changedPipelines.has(name))
          status.write('Pipeline', store.pipelines.get(name)?.metadata.namespace ?? '', name, s);
      }
    }
    if (status.writes('Experiment')) {
      for (const [name, s] of now.experiments) {
        if (allExperiments || changedExperiments.has(name))
          status.write('Experiment', store.experiments.get(name)?.metadata.namespace ?? '', name, s);
      }
    }
  }

  /** Phase 7; a deleted model has no resource left to write to. */
  private writeModelStatus(models: ModelEntry[]): void {
    const { status } = this.deps;
    if (!status.writes('Model')) return;
    for (const m of models) {
      if (!m.resource || m.deleted) continue;
      status.write('Model', m.resource.metadata.namespace ?? '', m.name, modelStatusOf(m));
    }
  }

  /** Phase 7; a Server being deleted (or never declared) is not written. */
  private writeServerStatus(names: string[]): void {
    const { store, status } = this.deps;
    if (!status.writes('Server')) return;
    for (const name of names) {
      const server = store.servers.get(name);
      if (!server?.desired || server.desired.replicas === 0) continue;
      status.write('Server', server.namespace, name, serverStatusOf(server, store.models));
    }
  }
}
