import type { ExperimentRoute, ModelRoute, PipelineRoute, RouteUpdate } from './control.ts';

/** How long routes missing from a new scheduler's first table are still served (see `apply`). */
export const CARRY_OVER_MS = 30_000;

type Kind = 'models' | 'experiments' | 'pipelines';

/**
 * A gateway's copy of the scheduler's route table, kept current by applying `RouteUpdate`s.
 *
 * A full update replaces the table, except after a resubscription (a scheduler restart, a new
 * leader): the new scheduler's first table lacks what its agents have not reported again yet, and
 * those replicas still serve. So routes the table held but the new one lacks are carried over
 * until the new table names them (its route then wins) or removes them, or until `carryOverMs`
 * has passed: a scheduler restart never withdraws a route that still works.
 */
export class RouteTable {
  readonly models = new Map<string, ModelRoute>();
  readonly experiments = new Map<string, ExperimentRoute>();
  readonly pipelines = new Map<string, PipelineRoute>();
  /**
   * Counts changes to the contents (derived indexes, the router's, follow it). Not the
   * scheduler's revision: a restarted scheduler numbers its tables from the start again.
   */
  revision = 0;
  /** Names served from the previous table until the new one covers them. */
  private carried: Record<Kind, Set<string>> | undefined;
  private expiry: NodeJS.Timeout | undefined;

  constructor(private readonly carryOverMs = CARRY_OVER_MS) {}

  apply(update: RouteUpdate): void {
    if (update.full) this.startOver(update);
    this.remove('models', update.removedModels);
    this.remove('experiments', update.removedExperiments);
    this.remove('pipelines', update.removedPipelines);
    for (const m of update.models) this.set('models', m.name, m);
    for (const e of update.experiments) this.set('experiments', e.name, e);
    for (const p of update.pipelines) this.set('pipelines', p.name, p);
    this.revision++;
    if (this.carried && this.carriedCount() === 0) this.endCarryOver();
  }

  /** Whether routes of a previous table are still being served (tests, logs). */
  get carryingOver(): boolean {
    return this.carried !== undefined;
  }

  private startOver(update: RouteUpdate): void {
    this.endCarryOver();
    const kept = {
      models: new Set(this.models.keys()),
      experiments: new Set(this.experiments.keys()),
      pipelines: new Set(this.pipelines.keys()),
    };
    for (const m of update.models) kept.models.delete(m.name);
    for (const e of update.experiments) kept.experiments.delete(e.name);
    for (const p of update.pipelines) kept.pipelines.delete(p.name);
    for (const kind of ['models', 'experiments', 'pipelines'] as const) {
      for (const name of this[kind].keys()) if (!kept[kind].has(name)) this[kind].delete(name);
    }
    this.carried = kept;
    if (this.carriedCount() === 0) return;
    this.expiry = setTimeout(() => this.dropCarried(), this.carryOverMs);
    this.expiry.unref();
  }

  private set<K extends Kind>(
    kind: K,
    name: string,
    route: RouteTable[K] extends Map<string, infer R> ? R : never,
  ): void {
    (this[kind] as Map<string, unknown>).set(name, route);
    this.carried?.[kind].delete(name);
  }

  private remove(kind: Kind, names: readonly string[]): void {
    for (const name of names) {
      this[kind].delete(name);
      this.carried?.[kind].delete(name);
    }
  }

  /** The carry-over period has passed: what the new table still lacks is gone. */
  private dropCarried(): void {
    if (!this.carried) return;
    for (const kind of ['models', 'experiments', 'pipelines'] as const)
      for (const name of this.carried[kind]) this[kind].delete(name);
    this.endCarryOver();
    this.revision++;
  }

  private endCarryOver(): void {
    if (this.expiry) clearTimeout(this.expiry);
    this.expiry = undefined;
    this.carried = undefined;
  }

  private carriedCount(): number {
    const c = this.carried;
    return c ? c.models.size + c.experiments.size + c.pipelines.size : 0;
  }
}
