import { Registry } from 'prom-client';
import { SCHEDULER_METRICS as M } from '../../spec/metrics.ts';
import { counter, gauge, histogram } from '../service/metric.ts';
import type { StoreView } from './store.ts';

/** The scheduler's Prometheus metrics; gauges are read from the scheduler at scrape time. */
export class SchedulerMetrics {
  readonly registry = new Registry();
  readonly placements = counter(this.registry, M.placements);
  readonly placementSeconds = histogram(this.registry, M.placementSeconds);
  readonly routeUpdates = counter(this.registry, M.routeUpdates);
  readonly scalingDecisions = counter(this.registry, M.scalingDecisions);

  /** Registers the gauges that read the scheduler's state when scraped. */
  observe(state: StoreView): void {
    gauge(this.registry, M.models, function collect() {
      this.reset();
      for (const m of state.models.values()) {
        const state = m.invalid ? 'InvalidSpec' : (m.latest?.state ?? 'Unknown');
        this.inc({ state });
      }
    });
    gauge(this.registry, M.replicasConnected, function collect() {
      this.reset();
      for (const s of state.servers.values()) this.set({ server: s.name }, s.replicas.length);
    });
  }
}
