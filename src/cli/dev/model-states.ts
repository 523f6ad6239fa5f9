/** The part of the scheduler's `/status` document `mlops dev` reports. */
export interface SchedulerStatus {
  models: { name: string; versions: { version: number; state: string; reason?: string }[] }[];
  pipelines?: { name: string; ready: boolean; reason?: string; message?: string }[];
  servers?: { name: string; replicas?: unknown[] }[];
}

/**
 * Whether every agent `mlops dev` started has registered: before that, models fail to schedule
 * for want of a replica, and the scheduler places them once it connects.
 */
export function agentsConnected(status: SchedulerStatus, started: ReadonlyMap<string, number>): boolean {
  return [...started].every(
    ([server, n]) => (status.servers?.find((s) => s.name === server)?.replicas?.length ?? 0) >= n,
  );
}

export interface ModelState {
  state: string;
  reason?: string;
}

/** Each model's newest version state. */
export function modelStates(status: SchedulerStatus): Map<string, ModelState> {
  const out = new Map<string, ModelState>();
  for (const m of status.models ?? []) {
    const newest = [...(m.versions ?? [])].sort((a, b) => b.version - a.version)[0];
    if (newest) out.set(m.name, { state: newest.state, reason: newest.reason || undefined });
  }
  return out;
}

/** Each pipeline's state: `Ready`, or the reason it is not with the step and model as reason. */
export function pipelineStates(status: SchedulerStatus): Map<string, ModelState> {
  const out = new Map<string, ModelState>();
  for (const p of status.pipelines ?? []) {
    out.set(p.name, p.ready ? { state: 'Ready' } : { state: p.reason ?? 'NotReady', reason: p.message });
  }
  return out;
}

/**
 * Lines for the models (or pipelines) whose state changed since `before` (sorted by name), each
 * followed by its note when `notes` has one (e.g. why `mlops dev` cannot run that model).
 */
export function stateChanges(
  before: Map<string, ModelState>,
  now: Map<string, ModelState>,
  kind: 'model' | 'pipeline' = 'model',
  notes: ReadonlyMap<string, string> = new Map(),
): string[] {
  const lines: string[] = [];
  for (const [name, s] of [...now].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const old = before.get(name);
    if (old && old.state === s.state && old.reason === s.reason) continue;
    const note = notes.get(name);
    lines.push(`${kind} ${name}: ${s.state}${s.reason ? ` (${s.reason})` : ''}${note ? ` — ${note}` : ''}`);
  }
  return lines;
}

/** Whether every declared model has left ModelProgressing (available, failed or unschedulable). */
export function settled(declared: readonly string[], now: Map<string, ModelState>): boolean {
  return declared.every((name) => {
    const s = now.get(name)?.state;
    return s !== undefined && s !== 'ModelProgressing';
  });
}
