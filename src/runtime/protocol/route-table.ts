import type { ExperimentRoute, ModelRoute, PipelineRoute, RouteUpdate } from './control.ts';

/** A gateway's copy of the scheduler's route table, kept current by applying `RouteUpdate`s. */
export class RouteTable {
  readonly models = new Map<string, ModelRoute>();
  readonly experiments = new Map<string, ExperimentRoute>();
  readonly pipelines = new Map<string, PipelineRoute>();
  revision = 0;

  apply(update: RouteUpdate): void {
    if (update.full) {
      this.models.clear();
      this.experiments.clear();
      this.pipelines.clear();
    }
    for (const name of update.removedModels) this.models.delete(name);
    for (const name of update.removedExperiments) this.experiments.delete(name);
    for (const name of update.removedPipelines) this.pipelines.delete(name);
    for (const m of update.models) this.models.set(m.name, m);
    for (const e of update.experiments) this.experiments.set(e.name, e);
    for (const p of update.pipelines) this.pipelines.set(p.name, p);
    this.revision = update.revision;
  }
}
