import type { Logger } from 'pino';
import type { PipelineResource } from '../../spec/types.ts';
import type { DesiredStateSource } from '../sources/types.ts';
import type { LivePipelines } from './live-pipelines.ts';

/**
 * Runs the Pipelines of `namespace` that `source` delivers (a manifest folder, or a watch on the
 * Kubernetes API) and follows their changes; resolves once the pipelines there at start run.
 * Changes arriving together (a folder re-read, a re-list after a broken watch) apply as one.
 */
export async function followPipelines(
  source: DesiredStateSource,
  namespace: string,
  live: LivePipelines,
  logger: Logger,
): Promise<DesiredStateSource> {
  const desired = new Map<string, PipelineResource>();
  let scheduled = false;
  let started = false;
  const apply = () =>
    live.apply([...desired.values()]).catch((err) => logger.error({ err }, 'applying pipelines failed'));
  const schedule = () => {
    if (!started || scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      void apply();
    });
  };
  await source.start({
    upsert(r) {
      if (r.kind !== 'Pipeline' || (r.metadata.namespace ?? 'default') !== namespace) return;
      desired.set(r.metadata.name, r as PipelineResource);
      schedule();
    },
    remove(kind, ns, name) {
      if (kind !== 'Pipeline' || (ns || 'default') !== namespace) return;
      desired.delete(name);
      schedule();
    },
    synced() {},
  });
  started = true;
  await apply();
  return source;
}
