/** The part of the scheduler's `/status` document `mlops dev` reports. */
export interface SchedulerStatus {
  models: { name: string; versions: { version: number; state: string; reason?: string }[] }[];
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

/** Lines for the models whose state changed since `before` (sorted by name). */
export function stateChanges(before: Map<string, ModelState>, now: Map<string, ModelState>): string[] {
  const lines: string[] = [];
  for (const [name, s] of [...now].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const old = before.get(name);
    if (old && old.state === s.state && old.reason === s.reason) continue;
    lines.push(`model ${name}: ${s.state}${s.reason ? ` (${s.reason})` : ''}`);
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
