import type { Endpoint, ExperimentRoute, RouteUpdate } from '../protocol/control.ts';

/**
 * A route table written by hand (local runs, tests, benchmarks): models map to replica
 * endpoints; experiments and pipelines as the scheduler would publish them.
 */
export interface StaticRoutes {
  models?: Record<string, StaticEndpoint[]>;
  experiments?: {
    name: string;
    default?: string;
    candidates: { name: string; weight: number }[];
    mirror?: { name: string; percent: number };
    resourceType?: 'model' | 'pipeline';
  }[];
  pipelines?: string[];
  pipelineGateways?: StaticEndpoint[];
}

export interface StaticEndpoint {
  host: string;
  httpPort: number;
  grpcPort: number;
}

export function endpointOf(e: StaticEndpoint, i = 0): Endpoint {
  return {
    serverName: `${e.host}:${e.httpPort}`,
    replicaIdx: i,
    host: e.host,
    httpPort: e.httpPort,
    grpcPort: e.grpcPort,
  };
}

/** Checks a static route document and turns it into a full route update. */
export function staticRouteUpdate(doc: unknown, revision = 1): RouteUpdate {
  const problems: string[] = [];
  const d = (doc ?? {}) as StaticRoutes;
  const models = Object.entries(d.models ?? {}).map(([name, endpoints]) => {
    if (!Array.isArray(endpoints) || endpoints.length === 0) {
      problems.push(`models.${name}: list at least one endpoint {host, httpPort, grpcPort}`);
      return { name, namespace: 'default', versions: [] };
    }
    for (const [i, e] of endpoints.entries()) checkEndpoint(e, `models.${name}[${i}]`, problems);
    return {
      name,
      namespace: 'default',
      versions: [{ version: 1, internalName: name, endpoints: endpoints.map(endpointOf) }],
    };
  });
  const experiments: ExperimentRoute[] = (d.experiments ?? []).map((e, i) => {
    if (!e?.name) problems.push(`experiments[${i}].name is required`);
    if (!Array.isArray(e?.candidates))
      problems.push(`experiments[${i}].candidates must be a list of {name, weight}`);
    return {
      name: e.name,
      namespace: 'default',
      default: e.default ?? '',
      candidates: e.candidates ?? [],
      mirror: e.mirror ?? null,
      resourceType: e.resourceType ?? 'model',
    };
  });
  for (const [i, e] of (d.pipelineGateways ?? []).entries())
    checkEndpoint(e, `pipelineGateways[${i}]`, problems);
  if (problems.length) throw new Error(`invalid route table: ${problems.join('; ')}`);
  return {
    revision,
    full: true,
    models,
    removedModels: [],
    experiments,
    removedExperiments: [],
    pipelines: (d.pipelines ?? []).map((name) => ({
      name,
      namespace: 'default',
      version: 1,
      modelsReady: true,
    })),
    removedPipelines: [],
  };
}

function checkEndpoint(e: StaticEndpoint, at: string, problems: string[]): void {
  if (typeof e?.host !== 'string' || !Number.isInteger(e.httpPort) || !Number.isInteger(e.grpcPort)) {
    problems.push(
      `${at} must be {host: string, httpPort: integer, grpcPort: integer}, got ${JSON.stringify(e)}`,
    );
  }
}
