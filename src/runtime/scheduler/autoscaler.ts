import type { Logger } from 'pino';
import type { MlopsResource } from '../../spec/types.ts';
import type { ModelScalingTriggerMessage } from '../protocol/control.ts';
import type { DesiredStateSource, WatchedKind } from '../sources/types.ts';
import { boundsDecision } from './bounds.ts';
import type { SchedulerMetrics } from './metrics.ts';
import type { Scheduler } from './scheduler.ts';

export interface AutoscalerOptions {
  scheduler: Scheduler;
  source: Pick<DesiredStateSource, 'scale' | 'scaleServerPods' | 'serverPods'>;
  log: Logger;
  /** Minimum time between two changes of one resource (prevents flapping). */
  cooldownMs: number;
  models: boolean;
  servers: boolean;
  /** How often servers are checked (and failed bounds corrections retried). */
  periodMs?: number;
  /** How often the StatefulSets of bounded Servers are compared with their Servers (0: never). */
  podsCheckMs?: number;
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
 *
 * A bounded Server's StatefulSet has no `replicas` of its own (synthesis leaves them to the
 * runtime), so Kubernetes starts it with one pod. Once per Server generation, and when first seen
 * (also after a restart), the StatefulSet is set to the Server's replicas even when those are within
 * the bounds: otherwise the scheduler would wait for pods that never come. For the same reason a
 * StatefulSet found running another number of pods than its Server says (recreated by GitOps after
 * a change to an immutable field, or scaled by hand) is set back, checked every `podsCheckMs`.
 */
export class Autoscaler {
  private readonly lastChange = new Map<string, number>();
  /** The last copy of each bounded resource received, and those whose correction failed. */
  private readonly received = new Map<string, MlopsResource>();
  private readonly retry = new Set<string>();
  /** The generation of each resource whose correction was already decided. */
  private readonly handled = new Map<string, number>();
  /** What each bounded Server's StatefulSet is to run, until written (retried while it fails or is
   * missing). */
  private readonly pods = new Map<string, PodsTarget>();
  private readonly podWrites = new Map<string, Promise<void>>();
  /** Replicas the scheduler wrote to a Server, whose new generation is still to come back. */
  private readonly echo = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private podsTimer?: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(private readonly opts: AutoscalerOptions) {
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.retryCorrections();
      for (const key of this.pods.keys()) this.writePods(key);
      if (this.opts.servers) this.checkServers();
    }, this.opts.periodMs ?? 2000);
    this.timer.unref();
    const podsCheckMs = this.opts.podsCheckMs ?? 30_000;
    if (podsCheckMs > 0 && this.opts.source.serverPods) {
      let checking = false;
      this.podsTimer = setInterval(() => {
        if (checking) return;
        checking = true;
        void this.checkServerPods().finally(() => {
          checking = false;
        });
      }, podsCheckMs);
      this.podsTimer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.podsTimer) clearInterval(this.podsTimer);
  }

  /** Sets back each bounded Server's StatefulSet that runs another number of pods than it says. */
  async checkServerPods(): Promise<void> {
    const { scheduler, source, log } = this.opts;
    if (!source.serverPods) return;
    for (const server of [...scheduler.servers.values()]) {
      const d = server.desired;
      if (!d || (d.minReplicas === 0 && d.maxReplicas === 0)) continue;
      const key = `Server/${server.name}`;
      // A write on its way (or a Server change still to come back) decides the number already.
      const busy = () => this.pods.has(key) || this.podWrites.has(key) || this.echo.has(key);
      if (busy()) continue;
      let running: number | undefined;
      try {
        running = await source.serverPods(server.namespace, server.name);
      } catch (err) {
        log.warn({ server: server.name, err: (err as Error).message }, 'StatefulSet read failed');
        continue;
      }
      const wanted = server.desired?.replicas;
      if (running === undefined || wanted === undefined || running === wanted || busy()) continue;
      const reason = `its StatefulSet runs ${running} pods, not the Server's ${wanted} (recreated or scaled by hand)`;
      log.info({ kind: 'Server', name: server.name, from: running, to: wanted, reason }, 'scaling decision');
      this.pods.set(key, {
        namespace: server.namespace,
        name: server.name,
        replicas: wanted,
        missing: false,
      });
      this.writePods(key);
    }
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
      this.forget(key);
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
    if (decision.action === 'within') {
      this.received.delete(key);
      if (res.kind === 'Server' && !handled)
        this.followServer(res.metadata.namespace ?? '', res.metadata.name, decision.replicas);
      return;
    }
    this.received.set(key, res);
    // The scheduler has just taken the uncorrected copy: correct it there every time.
    const { scheduler } = this.opts;
    if (res.kind === 'Model') scheduler.setModelReplicas(res.metadata.name, decision.to);
    else scheduler.setServerReplicas(res.metadata.name, decision.to);
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
    this.forget(`${kind}/${name}`);
  }

  private forget(key: string): void {
    this.received.delete(key);
    this.retry.delete(key);
    this.handled.delete(key);
    this.pods.delete(key);
    this.echo.delete(key);
  }

  /** A new generation of a Server within its bounds: its StatefulSet runs what it says. */
  private followServer(namespace: string, name: string, replicas: number): void {
    const key = `Server/${name}`;
    const echoed = this.echo.get(key);
    this.echo.delete(key);
    // The scheduler's own write coming back: its StatefulSet was set along with it.
    if (echoed === replicas || !this.opts.source.scaleServerPods) return;
    const reason = `StatefulSet follows Server replicas ${replicas}`;
    this.opts.log.info({ kind: 'Server', name, to: replicas, reason }, 'scaling decision');
    this.pods.set(key, { namespace, name, replicas, missing: false });
    this.writePods(key);
  }

  /** One write per Server at a time; a newer target is written once the one in flight is done. */
  private writePods(key: string): void {
    const target = this.pods.get(key);
    const { source, log } = this.opts;
    if (!target || target.withServer || !source.scaleServerPods || this.podWrites.has(key)) return;
    const write = source
      .scaleServerPods(target.namespace, target.name, target.replicas)
      .then(
        (result) => {
          if (result === 'scaled') {
            if (this.pods.get(key) === target) this.pods.delete(key);
          } else if (!target.missing) {
            target.missing = true;
            log.info(
              { server: target.name, replicas: target.replicas },
              'no StatefulSet for this Server yet: it is set once it exists',
            );
          }
        },
        (err: Error) =>
          log.warn({ server: target.name, err: err.message }, 'StatefulSet scaling write failed'),
      )
      .finally(() => {
        this.podWrites.delete(key);
        if (this.pods.get(key) !== target) this.writePods(key);
      });
    this.podWrites.set(key, write);
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
    // A Server's scale write sets its StatefulSet too: it supersedes any follow-up still pending,
    // and waits for one in flight so that the older value cannot land last.
    const key = `${kind}/${name}`;
    const inFlight = this.podWrites.get(key);
    const target: PodsTarget = { namespace, name, replicas: to, missing: false, withServer: true };
    if (kind === 'Server') {
      this.echo.set(key, to);
      this.pods.set(key, target);
    }
    const write = () => this.opts.source.scale(kind, namespace, name, to);
    const current = () => this.pods.get(key) === target;
    return (inFlight ? inFlight.then(write) : write()).then(
      (outcome) => {
        // No StatefulSet yet: set it once it exists, like a follow-up.
        if (outcome === 'missing' && current()) target.withServer = false;
        else if (current()) this.pods.delete(key);
        return true;
      },
      (err: Error) => {
        if (current()) this.pods.delete(key);
        if (this.echo.get(key) === to) this.echo.delete(key);
        this.opts.log.warn({ kind, name, err: err.message }, 'scaling write failed');
        return false;
      },
    );
  }
}

interface PodsTarget {
  namespace: string;
  name: string;
  replicas: number;
  /** `no StatefulSet yet` was logged (once per target). */
  missing: boolean;
  /** Being written by the Server's own scale write. */
  withServer?: boolean;
}
