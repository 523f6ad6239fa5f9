import type { MlopsResource } from '../../spec/types.ts';
import type { DesiredStateSource, WatchedKind } from '../sources/types.ts';
import type { Scheduler } from './scheduler.ts';

/** Told about each resource after the scheduler has taken it (e.g. the autoscaler's bounds). */
export interface ResourceObserver {
  onResource(resource: MlopsResource): void;
  onRemove(kind: WatchedKind, name: string): void;
}

/** Feeds a source's resources into the scheduler, then into the observer if any. */
export function connectSource(
  source: DesiredStateSource,
  scheduler: Scheduler,
  observer?: ResourceObserver,
): Promise<void> {
  return source.start({
    upsert(r: MlopsResource) {
      switch (r.kind) {
        case 'Model':
          scheduler.upsertModel(r);
          break;
        case 'Server':
          scheduler.upsertServer(r);
          break;
        case 'Pipeline':
          scheduler.upsertPipeline(r);
          break;
        case 'Experiment':
          scheduler.upsertExperiment(r);
          break;
      }
      observer?.onResource(r);
    },
    remove(kind, _namespace, name) {
      if (kind === 'Model') scheduler.deleteModel(name);
      else if (kind === 'Server') scheduler.deleteServer(name);
      else if (kind === 'Pipeline') scheduler.deletePipeline(name);
      else scheduler.deleteExperiment(name);
      observer?.onRemove(kind, name);
    },
    synced: () => scheduler.markSynced(),
  });
}
