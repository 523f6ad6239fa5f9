import type { ExperimentResource, PipelineResource } from '../../spec/types.ts';
import type {
  Endpoint,
  ExperimentRoute,
  ModelRoute,
  PipelineRoute,
  RouteUpdate,
  VersionRoute,
} from '../protocol/control.ts';
import { internalModelName } from '../protocol/control.ts';
import type { ModelView } from './models.ts';
import type { ServerEntry } from './servers.ts';

/** The route of a model: its versions with available replicas, newest first; undefined when
 * nothing serves it. Endpoints are sorted so equal tables serialise equally. */
export function modelRoute(
  model: ModelView,
  servers: ReadonlyMap<string, ServerEntry>,
): ModelRoute | undefined {
  const versions: VersionRoute[] = [];
  for (let i = model.versions.length - 1; i >= 0; i--) {
    const v = model.versions[i];
    const endpoints: Endpoint[] = [];
    for (const r of v.replicas.values()) {
      if (r.state !== 'Available') continue;
      const replica = servers.get(r.server)?.replica(r.idx);
      if (!replica) continue;
      endpoints.push({
        serverName: r.server,
        replicaIdx: r.idx,
        host: replica.config.inferenceHost,
        httpPort: replica.config.inferenceHttpPort,
        grpcPort: replica.config.inferenceGrpcPort,
      });
    }
    if (endpoints.length === 0) continue;
    endpoints.sort((a, b) =>
      a.serverName < b.serverName ? -1 : a.serverName > b.serverName ? 1 : a.replicaIdx - b.replicaIdx,
    );
    versions.push({ version: v.version, internalName: internalModelName(model.name, v.version), endpoints });
  }
  if (versions.length === 0) return undefined;
  return { name: model.name, namespace: model.resource?.metadata.namespace ?? '', versions };
}

/**
 * The route table as published to gateways: keeps what was last sent and turns each batch of
 * changes into one incremental `RouteUpdate` holding only what differs (nothing is sent when
 * nothing differs). New subscribers start from `snapshot()`.
 */
export class RoutePublisher {
  private readonly models = new Map<string, string>();
  private readonly experiments = new Map<string, ExperimentRoute>();
  private readonly pipelines = new Map<string, PipelineRoute>();
  private readonly listeners = new Set<(u: RouteUpdate) => void>();
  private revision = 0;

  constructor(private readonly onPublish: () => void = () => {}) {}

  subscribe(listener: (u: RouteUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Whether the model has a route (some version with an available replica). */
  hasModel(name: string): boolean {
    return this.models.has(name);
  }

  snapshot(): RouteUpdate {
    return {
      ...emptyUpdate(this.revision),
      full: true,
      models: [...this.models.values()].map((s) => JSON.parse(s) as ModelRoute),
      experiments: [...this.experiments.values()],
      pipelines: [...this.pipelines.values()],
    };
  }

  /** Publishes the changed entries (undefined = gone). */
  publish(changed: {
    models: ReadonlyMap<string, ModelRoute | undefined>;
    experiments: ReadonlyMap<string, ExperimentResource | undefined>;
    pipelines: ReadonlyMap<string, PipelineResource | undefined>;
  }): void {
    const update = emptyUpdate(0);
    for (const [name, route] of changed.models) {
      const before = this.models.get(name);
      if (!route) {
        if (before !== undefined) {
          this.models.delete(name);
          update.removedModels.push(name);
        }
        continue;
      }
      const text = JSON.stringify(route);
      if (text === before) continue;
      this.models.set(name, text);
      update.models.push(route);
    }
    for (const [name, e] of changed.experiments) {
      if (!e) {
        if (this.experiments.delete(name)) update.removedExperiments.push(name);
        continue;
      }
      const route: ExperimentRoute = {
        name,
        namespace: e.metadata.namespace ?? '',
        default: e.spec.default ?? '',
        candidates: e.spec.candidates.map((c) => ({ name: c.name, weight: c.weight })),
        mirror: e.spec.mirror ? { name: e.spec.mirror.name, percent: e.spec.mirror.percent } : undefined,
        resourceType: e.spec.resourceType ?? 'model',
      };
      this.experiments.set(name, route);
      update.experiments.push(route);
    }
    for (const [name, p] of changed.pipelines) {
      const before = this.pipelines.get(name);
      if (!p) {
        if (before) {
          this.pipelines.delete(name);
          update.removedPipelines.push(name);
        }
        continue;
      }
      const route: PipelineRoute = {
        name,
        namespace: p.metadata.namespace ?? '',
        version: p.metadata.generation ?? 1,
        modelsReady: p.spec.steps.every((s) => this.models.has(s.name)),
      };
      if (before && JSON.stringify(before) === JSON.stringify(route)) continue;
      this.pipelines.set(name, route);
      update.pipelines.push(route);
    }
    const size =
      update.models.length +
      update.removedModels.length +
      update.experiments.length +
      update.removedExperiments.length +
      update.pipelines.length +
      update.removedPipelines.length;
    if (size === 0) return;
    update.revision = ++this.revision;
    this.onPublish();
    for (const l of this.listeners) l(update);
  }
}

function emptyUpdate(revision: number): RouteUpdate {
  return {
    revision,
    full: false,
    models: [],
    removedModels: [],
    experiments: [],
    removedExperiments: [],
    pipelines: [],
    removedPipelines: [],
  };
}
