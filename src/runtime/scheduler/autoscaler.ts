import type { Logger } from 'pino';
import type { ModelScalingTriggerMessage } from '../protocol/control.ts';
import type { DesiredStateSource } from '../sources/types.ts';
import type { SchedulerMetrics } from './metrics.ts';
import type { Scheduler } from './scheduler.ts';

export interface AutoscalerOptions {
  scheduler: Scheduler;
  source: Pick<DesiredStateSource, 'scale'>;
  log: Logger;
  /** Minimum time between two changes of one resource (prevents flapping). */
  cooldownMs: number;
  models: boolean;
  servers: boolean;
  /** How often servers are checked. */
  periodMs?: number;
  now?: () => number;
  metrics?: SchedulerMetrics;
}

/**
 * Native autoscaling within each resource's min/max. Models move ±1 replica on their agents'
 * triggers (requests in flight above a threshold: up; idle: down, never below 1 or `minReplicas`);
 * only models that declare `minReplicas` or `maxReplicas` are autoscaled. Servers grow when a model
 * assigned to them wants more replicas than they have pods, and shrink when pods sit empty. Every
 * decision is logged with its reason; a cool-down per resource stops flapping.
 */
export class Autoscaler {
  private readonly lastChange = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(private readonly opts: AutoscalerOptions) {
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    if (!this.opts.servers) return;
    this.timer = setInterval(() => this.checkServers(), this.opts.periodMs ?? 2000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Returns the new replica count when the trigger changed it. */
  onTrigger(msg: ModelScalingTriggerMessage): number | undefined {
    if (!this.opts.models) return undefined;
    const model = this.opts.scheduler.models.get(msg.modelName);
    const lv = model?.latest;
    if (!model?.resource || model.deleted || !lv || lv.version !== msg.modelVersion) return undefined;
    const { replicas, minReplicas, maxReplicas } = model.scaling;
    if (minReplicas === 0 && maxReplicas === 0) return undefined;
    let target = replicas;
    if (msg.trigger === 'SCALE_UP') {
      if (lv.state !== 'ModelAvailable') return undefined;
      target = maxReplicas > 0 ? Math.min(replicas + 1, maxReplicas) : replicas + 1;
    } else {
      target = Math.max(replicas - 1, minReplicas, 1);
    }
    if (target === replicas) return undefined;
    const key = `Model/${model.name}`;
    if (!this.cooledDown(key)) return undefined;
    const reason =
      msg.trigger === 'SCALE_UP'
        ? `${msg.metrics.inFlight ?? '?'} requests in flight on ${msg.serverName}-${msg.replicaIdx}`
        : `idle for ${msg.metrics.idleSeconds ?? '?'} s on ${msg.serverName}-${msg.replicaIdx}`;
    this.apply('Model', model.resource.metadata.namespace ?? '', model.name, replicas, target, reason);
    this.opts.scheduler.setModelReplicas(model.name, target);
    return target;
  }

  /** Scale-up when a model needs more pods than its server has; scale-down of empty pods. */
  checkServers(): void {
    const { scheduler } = this.opts;
    for (const server of scheduler.servers.values()) {
      const d = server.desired;
      if (!d || d.replicas === 0 || (d.minReplicas === 0 && d.maxReplicas === 0)) continue;
      if (server.replicas.length < d.replicas) continue; // still converging to the last change
      let needed = 0;
      let neededBy = '';
      for (const m of scheduler.models.values()) {
        const lv = m.latest;
        if (!lv || m.deleted) continue;
        const onServer = lv.server === server.name || m.versions.some((v) => v.server === server.name);
        const pinned = lv.definition.server === server.name;
        if ((onServer || pinned) && m.scaling.replicas > needed) {
          needed = m.scaling.replicas;
          neededBy = m.name;
        }
      }
      // A StatefulSet removes its highest-index pods: only count empty pods at the top.
      let empty = 0;
      for (let i = server.replicas.length - 1; i >= 0 && server.replicas[i].models.size === 0; i--) empty++;
      const floor = Math.max(d.minReplicas, 1);
      const ceiling = d.maxReplicas > 0 ? d.maxReplicas : Number.POSITIVE_INFINITY;
      let target = d.replicas;
      let reason = '';
      if (needed > d.replicas) {
        target = Math.min(needed, ceiling);
        reason = `model ${neededBy} wants ${needed} replicas`;
      } else if (empty > 0 && d.replicas > floor) {
        target = Math.max(floor, d.replicas - empty, needed);
        reason = `the ${empty} highest-index pods hold no model`;
      }
      if (target === d.replicas || !this.cooledDown(`Server/${server.name}`)) continue;
      this.apply('Server', server.namespace, server.name, d.replicas, target, reason);
      server.desired = { ...d, replicas: target };
    }
  }

  private cooledDown(key: string): boolean {
    const last = this.lastChange.get(key);
    const now = this.now();
    if (last !== undefined && now - last < this.opts.cooldownMs) return false;
    this.lastChange.set(key, now);
    return true;
  }

  private apply(
    kind: 'Model' | 'Server',
    namespace: string,
    name: string,
    from: number,
    to: number,
    reason: string,
  ): void {
    this.opts.log.info({ kind, name, from, to, reason }, 'scaling decision');
    this.opts.metrics?.scalingDecisions.inc({ kind, direction: to > from ? 'up' : 'down' });
    this.opts.source
      .scale(kind, namespace, name, to)
      .catch((err: Error) => this.opts.log.warn({ kind, name, err: err.message }, 'scaling write failed'));
  }
}
