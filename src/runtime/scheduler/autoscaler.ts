import type { Logger } from 'pino';
import type { MlopsResource } from '../../spec/types.ts';
import type { ModelScalingTriggerMessage } from '../protocol/control.ts';
import type { DesiredStateSource, WatchedKind } from '../sources/types.ts';
import { boundsDecision } from './bounds.ts';
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
  /** How often servers are checked (and failed bounds corrections retried). */
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
 *
 * Independently of demand (and of the `models`/`servers` switches, which are about demand), every
 * Model and Server that declares bounds is brought within [minReplicas, maxReplicas] whenever the
 * scheduler receives it: when first seen, after its bounds change, after a hand edit of `replicas`.
 * Such a correction neither waits for nor starts a cool-down: it is not flapping.
 */
export class Autoscaler {
  private readonly lastChange = new Map<string, number>();
  /** The last copy of each bounded resource received, and those whose correction failed. */
  private readonly received = new Map<string, MlopsResource>();
  private readonly retry = new Set<string>();
  /** The generation of each resource whose correction was already decided. */
  private readonly handled = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(private readonly opts: AutoscalerOptions) {
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.retryCorrections();
      if (this.opts.servers) this.checkServers();
    }, this.opts.periodMs ?? 2000);
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
    void this.apply('Model', model.resource.metadata.namespace ?? '', model.name, replicas, target, reason);
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
      void this.apply('Server', server.namespace, server.name, d.replicas, target, reason);
      server.desired = { ...d, replicas: target };
    }
  }

  /** Called with each Model or Server the source delivers, after the scheduler has taken it. */
  onResource(res: MlopsResource): void {
    if (res.kind !== 'Model' && res.kind !== 'Server') return;
    const key = `${res.kind}/${res.metadata.name}`;
    this.retry.delete(key);
    const decision = boundsDecision(res.kind, res.spec);
    if (decision.action === 'none') {
      this.received.delete(key);
      this.handled.delete(key);
      return;
    }
    // A status write re-delivers a spec already handled (same generation): decide only once.
    const generation = res.metadata.generation;
    const handled = generation !== undefined && this.handled.get(key) === generation;
    if (generation !== undefined) this.handled.set(key, generation);
    if (decision.action === 'invalid') {
      this.received.delete(key);
      if (!handled) {
        this.opts.log.warn(
          { kind: res.kind, name: res.metadata.name, err: decision.reason },
          'bounds not applied',
        );
      }
      return;
    }
    this.received.set(key, res);
    // The scheduler has just taken the uncorrected copy: correct it there every time.
    const { scheduler } = this.opts;
    if (res.kind === 'Model') scheduler.setModelReplicas(res.metadata.name, decision.to);
    else {
      const server = scheduler.servers.get(res.metadata.name);
      if (server?.desired) server.desired = { ...server.desired, replicas: decision.to };
    }
    if (handled) return;
    this.apply(
      res.kind,
      res.metadata.namespace ?? '',
      res.metadata.name,
      decision.from,
      decision.to,
      decision.reason,
    ).then((ok) => {
      if (ok || this.received.get(key) !== res) return;
      this.handled.delete(key);
      this.retry.add(key);
    });
  }

  /** The resource is gone: nothing left to correct. */
  onRemove(kind: WatchedKind, name: string): void {
    const key = `${kind}/${name}`;
    this.received.delete(key);
    this.retry.delete(key);
    this.handled.delete(key);
  }

  private retryCorrections(): void {
    for (const key of [...this.retry]) {
      const res = this.received.get(key);
      if (res) this.onResource(res);
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
  ): Promise<boolean> {
    this.opts.log.info({ kind, name, from, to, reason }, 'scaling decision');
    this.opts.metrics?.scalingDecisions.inc({ kind, direction: to > from ? 'up' : 'down' });
    return this.opts.source.scale(kind, namespace, name, to).then(
      () => true,
      (err: Error) => {
        this.opts.log.warn({ kind, name, err: err.message }, 'scaling write failed');
        return false;
      },
    );
  }
}
