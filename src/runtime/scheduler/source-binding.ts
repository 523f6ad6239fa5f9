import type { MlopsResource } from '../../spec/types.ts';
import type { DesiredStateSource } from '../sources/types.ts';
import type { Scheduler } from './scheduler.ts';

/** Feeds a source's resources into the scheduler. */
export function connectSource(source: DesiredStateSource, scheduler: Scheduler): Promise<void> {
  return source.start({
    upsert(r: MlopsResource) {
      switch (r.kind) {
        case 'Model':
          return scheduler.upsertModel(r);
        case 'Server':
          return scheduler.upsertServer(r);
        case 'Pipeline':
          return scheduler.upsertPipeline(r);
        case 'Experiment':
          return scheduler.upsertExperiment(r);
      }
    },
    remove(kind, _namespace, name) {
      if (kind === 'Model') scheduler.deleteModel(name);
      else if (kind === 'Server') scheduler.deleteServer(name);
      else if (kind === 'Pipeline') scheduler.deletePipeline(name);
      else scheduler.deleteExperiment(name);
    },
    synced: () => scheduler.markSynced(),
  });
}
