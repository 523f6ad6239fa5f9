import type { Endpoint, ModelRoute, VersionRoute } from '../protocol/control.ts';
import { internalModelName } from '../protocol/control.ts';
import type { ModelEntry } from './scheduler.ts';
import type { ServerEntry } from './servers.ts';

/** The route of a model: its versions with available replicas, newest first; undefined when
 * nothing serves it. Endpoints are sorted so equal tables serialise equally. */
export function modelRoute(
  model: ModelEntry,
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

export function routeKey(route: ModelRoute): string {
  return JSON.stringify(route);
}
