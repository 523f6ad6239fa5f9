import { SERVER_NAME_LABEL } from '../../spec/annotations.ts';
import type { Condition, ModelStatus, ServerStatus, StatusBase } from '../../spec/types.ts';
import type { ModelView } from './models.ts';
import type { ServerEntry } from './servers.ts';

/** `.status` of a Model resource: the ModelReady condition (and the aggregate Ready) carry the
 * scheduler state as reason and why as message; replica counts feed the printer columns. */
export function modelStatusOf(model: ModelView): ModelStatus {
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
export function serverStatusOf(server: ServerEntry, models: ReadonlyMap<string, ModelView>): ServerStatus {
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
    selector: `${SERVER_NAME_LABEL}=${server.name}`,
  };
}

/** What `GET /status` returns: every server pod and model version with its state, and whether
 * each pipeline and experiment is ready (else its `Ready` condition's reason and message). */
export interface SchedulerSummary {
  servers: {
    name: string;
    expectedReplicas: number;
    policy: string;
    replicas: {
      idx: number;
      capacityBytes: number;
      committedBytes: number;
      draining: boolean;
      models: string[];
    }[];
  }[];
  models: {
    name: string;
    desiredReplicas: number;
    deleted: boolean;
    invalid?: string;
    versions: {
      version: number;
      server: string;
      state: string;
      reason?: string;
      replicas: { server: string; idx: number; state: string; reason?: string }[];
    }[];
  }[];
  pipelines: Readiness[];
  experiments: Readiness[];
}

export interface Readiness {
  name: string;
  ready: boolean;
  reason?: string;
  message?: string;
}

/** The summary entry of a resource from its status' `Ready` condition. */
export function readinessOf(name: string, status: StatusBase): Readiness {
  const c = status.conditions?.find((x) => x.type === 'Ready');
  if (c?.status === 'True') return { name, ready: true };
  return { name, ready: false, reason: c?.reason, message: c?.message };
}

export function describeScheduler(
  servers: ReadonlyMap<string, ServerEntry>,
  models: ReadonlyMap<string, ModelView>,
  dependents: Pick<SchedulerSummary, 'pipelines' | 'experiments'>,
): SchedulerSummary {
  const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : 1);
  return {
    servers: [...servers.values()].sort(byName).map((s) => ({
      name: s.name,
      expectedReplicas: s.expectedReplicas,
      policy: s.policy,
      replicas: s.replicas.map((r) => ({
        idx: r.idx,
        capacityBytes: r.capacityBytes,
        committedBytes: r.committedBytes,
        draining: r.draining,
        models: [...r.models.keys()].sort(),
      })),
    })),
    models: [...models.values()].sort(byName).map((m) => ({
      name: m.name,
      desiredReplicas: m.scaling.replicas,
      deleted: m.deleted,
      invalid: m.invalid,
      versions: m.versions.map((v) => ({
        version: v.version,
        server: v.server,
        state: v.state,
        reason: v.reason || undefined,
        replicas: [...v.replicas.values()].map((r) => ({
          server: r.server,
          idx: r.idx,
          state: r.state,
          reason: r.reason || undefined,
        })),
      })),
    })),
    pipelines: [...dependents.pipelines].sort(byName),
    experiments: [...dependents.experiments].sort(byName),
  };
}
