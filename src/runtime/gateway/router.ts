import { OipError } from '../oip/errors.ts';
import { decodePathSegment } from '../oip/request-text.ts';
import type { Endpoint, ExperimentRoute, ModelRoute, PipelineRoute } from '../protocol/control.ts';

/** What the router reads: the scheduler's route table or a static one. */
export interface RouteSource {
  readonly models: ReadonlyMap<string, ModelRoute>;
  readonly experiments: ReadonlyMap<string, ExperimentRoute>;
  readonly pipelines: ReadonlyMap<string, PipelineRoute>;
  /** Changes whenever the contents change (used to rebuild derived indexes). */
  readonly revision: number;
}

export type Target =
  | { kind: 'model'; name: string; version: number; internalName: string; endpoints: Endpoint[] }
  | { kind: 'pipeline'; name: string };

export interface Resolution {
  target: Target;
  /** Value for the `x-seldon-route` response header, e.g. `:iris_1:` or `:p.pipeline:`. */
  route: string;
  /** Where a copy of the request goes (responses discarded), when an experiment mirrors. */
  mirror?: Target;
}

type Key = { kind: 'model' | 'pipeline' | 'experiment'; name: string };

/** Parses a `seldon-model` value: `m`, `m.model`, `p.pipeline` or `e.experiment`. */
export function parseRouteKey(value: string): Key {
  const dot = value.lastIndexOf('.');
  const suffix = dot > 0 ? value.slice(dot + 1) : '';
  const name = value.slice(0, dot);
  if (suffix === 'pipeline') return { kind: 'pipeline', name };
  if (suffix === 'experiment') return { kind: 'experiment', name };
  if (suffix === 'model') return { kind: 'model', name };
  return { kind: 'model', name: value };
}

/** Derives the route key from an OIP path when no `seldon-model` header is present. */
export function routeKeyFromPath(path: string): string | undefined {
  const m = /^\/v2\/(models|pipelines)\/([^/?]+)/.exec(path);
  if (!m) return undefined;
  const name = decodePathSegment(m[2]);
  return m[1] === 'pipelines' ? `${name}.pipeline` : name;
}

/**
 * Resolves route keys to targets: experiments (weighted split, sticky sessions, mirror), the
 * default candidate taking over its model's or pipeline's own key, and version roll-outs split by
 * ready replica counts.
 */
export class Router {
  private indexRevision = -1;
  private byDefault = new Map<string, ExperimentRoute>();

  constructor(
    private readonly source: RouteSource,
    private readonly random: () => number = Math.random,
  ) {}

  resolve(routeKey: string, stickyHeader?: string): Resolution {
    const key = parseRouteKey(routeKey);
    const experiment = this.experimentFor(key);
    if (!experiment) {
      const target = key.kind === 'pipeline' ? this.pipeline(key.name) : this.model(key.name, stickyHeader);
      return { target, route: routeTag(target) };
    }
    const kind = experiment.resourceType === 'pipeline' ? 'pipeline' : 'model';
    const candidate = this.pickCandidate(experiment, kind, stickyHeader);
    const target = kind === 'pipeline' ? this.pipeline(candidate) : this.model(candidate, stickyHeader);
    const resolution: Resolution = { target, route: routeTag(target) };
    const mirror = experiment.mirror;
    if (mirror && mirror.percent > 0 && this.random() * 100 < mirror.percent) {
      resolution.mirror = this.tryTarget(kind, mirror.name);
    }
    return resolution;
  }

  private experimentFor(key: Key): ExperimentRoute | undefined {
    if (key.kind === 'experiment') {
      const e = this.source.experiments.get(key.name);
      if (!e) throw new OipError(`experiment "${key.name}" not found; check the seldon-model header`, 404);
      return e;
    }
    if (this.indexRevision !== this.source.revision) {
      this.byDefault = new Map();
      for (const e of this.source.experiments.values()) {
        if (!e.default || (e.candidates.length === 0 && !e.mirror)) continue;
        const kind = e.resourceType === 'pipeline' ? 'pipeline' : 'model';
        this.byDefault.set(`${kind}/${e.default}`, e);
      }
      this.indexRevision = this.source.revision;
    }
    return this.byDefault.get(`${key.kind}/${key.name}`);
  }

  private pickCandidate(e: ExperimentRoute, kind: 'model' | 'pipeline', sticky?: string): string {
    const live = e.candidates.filter((c) => c.weight > 0 && this.isLive(kind, c.name));
    if (sticky) {
      for (const token of routeTokens(sticky)) {
        const hit = live.find((c) => c.name === token.name);
        if (hit) return hit.name;
      }
    }
    if (live.length === 0) {
      // Nothing routable: the default (if any) serves alone, as when an experiment cannot be applied.
      if (e.default) return e.default;
      throw new OipError(`experiment "${e.name}" has no ready candidate`, 503);
    }
    const total = live.reduce((sum, c) => sum + c.weight, 0);
    let point = this.random() * total;
    for (const c of live) {
      point -= c.weight;
      if (point < 0) return c.name;
    }
    return live[live.length - 1].name;
  }

  /** Whether every model of a known pipeline serves (the scheduler's `modelsReady`). */
  pipelineReady(name: string): boolean {
    return this.source.pipelines.get(name)?.modelsReady ?? false;
  }

  private isLive(kind: 'model' | 'pipeline', name: string): boolean {
    if (kind === 'pipeline') return this.pipelineReady(name);
    return this.source.models.get(name)?.versions.some((v) => v.endpoints.length > 0) ?? false;
  }

  private tryTarget(kind: 'model' | 'pipeline', name: string): Target | undefined {
    try {
      return kind === 'pipeline' ? this.pipeline(name) : this.model(name);
    } catch {
      return undefined;
    }
  }

  private pipeline(name: string): Target {
    if (!this.source.pipelines.has(name)) {
      throw new OipError(`pipeline "${name}" not found; check the name or wait until it is ready`, 404);
    }
    return { kind: 'pipeline', name };
  }

  private model(name: string, sticky?: string): Target {
    const route = this.source.models.get(name);
    if (!route)
      throw new OipError(`model "${name}" not found; check the name or wait until it is loaded`, 404);
    const versions = route.versions.filter((v) => v.endpoints.length > 0);
    if (versions.length === 0) throw new OipError(`model "${name}" has no ready replica`, 503);
    let chosen = versions[0];
    const stickyVersion =
      sticky && routeTokens(sticky).find((t) => t.name === name && t.version !== undefined);
    const pinned = stickyVersion && versions.find((v) => v.version === stickyVersion.version);
    if (pinned) chosen = pinned;
    else if (versions.length > 1) {
      // During a roll-out, split between versions in proportion to their ready replicas.
      const total = versions.reduce((s, v) => s + v.endpoints.length, 0);
      let point = this.random() * total;
      for (const v of versions) {
        point -= v.endpoints.length;
        if (point < 0) {
          chosen = v;
          break;
        }
      }
    }
    return {
      kind: 'model',
      name,
      version: chosen.version,
      internalName: chosen.internalName || `${name}_${chosen.version}`,
      endpoints: chosen.endpoints,
    };
  }
}

export function routeTag(target: Target): string {
  return target.kind === 'pipeline' ? `:${target.name}.pipeline:` : `:${target.name}_${target.version}:`;
}

/** Reads `:iris_1:` / `:p.pipeline:` tokens out of an `x-seldon-route` header value. */
export function routeTokens(header: string): { name: string; version?: number }[] {
  const out: { name: string; version?: number }[] = [];
  for (const token of header.split(/[:,\s]+/)) {
    if (!token) continue;
    if (token.endsWith('.pipeline')) {
      out.push({ name: token.slice(0, -'.pipeline'.length) });
      continue;
    }
    const m = /^(.*)_(\d+)$/.exec(token);
    out.push(m ? { name: m[1], version: Number(m[2]) } : { name: token });
  }
  return out;
}
