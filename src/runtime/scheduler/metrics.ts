import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { StoreView } from './store.ts';

/** The scheduler's Prometheus metrics; gauges are read from the scheduler at scrape time. */
export class SchedulerMetrics {
  readonly registry = new Registry();
  readonly placements = new Counter({
    name: 'mlops_scheduler_placements_total',
    help: 'Placement decisions, by result (placed, partial, failed)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly placementSeconds = new Histogram({
    name: 'mlops_scheduler_placement_seconds',
    help: 'Time to take one placement decision',
    buckets: [1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 1e-3, 1e-2],
    registers: [this.registry],
  });
  readonly routeUpdates = new Counter({
    name: 'mlops_scheduler_route_updates_total',
    help: 'Incremental route-table updates published to gateways',
    registers: [this.registry],
  });
  readonly scalingDecisions = new Counter({
    name: 'mlops_scheduler_scaling_decisions_total',
    help: 'Autoscaling changes, by kind and direction',
    labelNames: ['kind', 'direction'] as const,
    registers: [this.registry],
  });

  /** Registers the gauges that read the scheduler's state when scraped. */
  observe(state: StoreView): void {
    new Gauge({
      name: 'mlops_scheduler_models',
      help: 'Models by the state of their latest version',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const m of state.models.values()) {
          const state = m.invalid ? 'InvalidSpec' : (m.latest?.state ?? 'Unknown');
          this.inc({ state });
        }
      },
    });
    new Gauge({
      name: 'mlops_scheduler_server_replicas_connected',
      help: 'Connected agents per Server',
      labelNames: ['server'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const s of state.servers.values()) this.set({ server: s.name }, s.replicas.length);
      },
    });
  }
}
