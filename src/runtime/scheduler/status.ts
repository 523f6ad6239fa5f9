import type { Condition, ModelStatus, ServerStatus } from '../../spec/types.ts';
import type { ModelEntry } from './scheduler.ts';
import type { ServerEntry } from './servers.ts';

/** `.status` of a Model resource: the ModelReady condition (and the aggregate Ready) carry the
 * scheduler state as reason and why as message; replica counts feed the printer columns. */
export function modelStatusOf(model: ModelEntry): ModelStatus {
  const lv = model.latest;
  let ready: Condition['status'] = 'False';
  let reason = 'ModelProgressing';
  let message = '';
  if (model.invalid) {
    reason = 'InvalidSpec';
    message = model.invalid;
  } else if (lv) {
    ready = lv.state === 'ModelAvailable' ? 'True' : 'False';
    reason = lv.state;
    message = lv.reason;
  }
  const condition = (type: string): Condition => ({
    type,
    status: ready,
    reason,
    ...(message ? { message } : {}),
  });
  const status: ModelStatus = {
    conditions: [condition('ModelReady'), condition('Ready')],
    replicas: model.scaling.replicas,
    availableReplicas: lv?.available ?? 0,
  };
  if (model.resource?.metadata.generation !== undefined)
    status.observedGeneration = model.resource.metadata.generation;
  if (lv?.server) status.selector = `server=${lv.server}`;
  return status;
}

/** `.status` of a Server resource: connected replicas, loaded model replicas, readiness. */
export function serverStatusOf(server: ServerEntry, models: ReadonlyMap<string, ModelEntry>): ServerStatus {
  let loaded = 0;
  for (const m of models.values()) {
    for (const v of m.versions) {
      for (const r of v.replicas.values()) if (r.server === server.name && r.state === 'Available') loaded++;
    }
  }
  const expected = server.desired?.replicas ?? 0;
  const connected = server.replicas.length;
  const ok = connected >= expected;
  return {
    conditions: [
      {
        type: 'Ready',
        status: ok ? 'True' : 'False',
        reason: ok ? 'ReplicasConnected' : 'ReplicasMissing',
        message: `${connected} of ${expected} replicas connected`,
      },
    ],
    loadedModels: loaded,
    replicas: connected,
    selector: `seldon-server-name=${server.name}`,
  };
}
