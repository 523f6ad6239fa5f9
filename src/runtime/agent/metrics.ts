import { Registry } from 'prom-client';
import { grpcStatusName, AGENT_METRICS as M } from '../../spec/metrics.ts';
import { counter, gauge, histogram, SeldonInferSeries } from '../service/metric.ts';

/** Which replica the metrics describe: Seldon's `server` and `server_replica` labels. */
export interface ReplicaLabels {
  server: string;
  replica: number;
}

/** A registered model as the residency tracker lists it. */
interface Resident {
  readonly name: string;
  readonly bytes: number;
  readonly inMemory: boolean;
}

/**
 * The agent's Prometheus metrics, on a registry of its own: the runtime's `mlops_agent_*` and,
 * beside them, Seldon's agent metrics (see spec/metrics.ts).
 */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly loads = counter(this.registry, M.loads);
  readonly unloads = counter(this.registry, M.unloads);
  readonly evictions = counter(this.registry, M.evictions);
  readonly reloads = counter(this.registry, M.reloads);
  readonly reloadSeconds = histogram(this.registry, M.reloadSeconds);
  readonly downloads = counter(this.registry, M.downloads);
  readonly downloadSeconds = histogram(this.registry, M.downloadSeconds);
  readonly capacityBytes = gauge(this.registry, M.capacityBytes);
  readonly inMemoryBytes = gauge(this.registry, M.inMemoryBytes);
  readonly registeredBytes = gauge(this.registry, M.registeredBytes);
  readonly models = gauge(this.registry, M.models);
  readonly requests = counter(this.registry, M.requests);
  private readonly inferSecondsByModel = histogram(this.registry, M.inferSecondsByModel);
  private readonly seldonInfer = new SeldonInferSeries(this.registry, M);
  private readonly cacheEvict = counter(this.registry, M.cacheEvict);
  private readonly cacheMiss = counter(this.registry, M.cacheMiss);
  private readonly loadCount = counter(this.registry, M.loadCount);
  private readonly unloadCount = counter(this.registry, M.unloadCount);
  private readonly replica: { server: string; server_replica: string };
  private observing = false;

  constructor(replica: ReplicaLabels = { server: '', replica: 0 }) {
    this.replica = { server: replica.server, server_replica: String(replica.replica) };
    // Zero from the start, so rates over them read 0 rather than no data until the first event.
    for (const c of [this.cacheEvict, this.cacheMiss, this.loadCount, this.unloadCount])
      c.inc(this.replica, 0);
  }

  /**
   * One proxied inference call. `method` is the HTTP method (lower case) or `grpc`; `code` the
   * HTTP status or the gRPC status number (Seldon's labels name it: `OK`, `NotFound`, ...).
   */
  inferred(call: {
    model: string;
    internal: string;
    protocol: 'rest' | 'grpc';
    method: string;
    code: string;
    seconds: number;
  }): void {
    this.requests.inc({ model: call.internal, protocol: call.protocol, code: call.code });
    const code = call.protocol === 'grpc' ? grpcStatusName(Number(call.code)) : call.code;
    this.seldonInfer.record(
      {
        item: {
          ...this.replica,
          model: call.model,
          model_internal: call.internal,
          method_type: call.protocol,
          code,
        },
        aggregate: { ...this.replica, method_type: call.protocol },
        api: { ...this.replica, method: call.method, code },
      },
      call.seconds,
    );
    this.inferSecondsByModel.observe({ model: call.model }, call.seconds);
  }

  /** A load the scheduler asked for succeeded. */
  loaded(): void {
    this.loads.inc({ result: 'success' });
    this.loadCount.inc(this.replica);
  }

  /** An unload the scheduler asked for succeeded. */
  unloaded(): void {
    this.unloads.inc({ result: 'success' });
    this.unloadCount.inc(this.replica);
  }

  evicted(): void {
    this.evictions.inc();
    this.cacheEvict.inc(this.replica);
  }

  /** A request found its model evicted and brought it back (`seconds` to do so). */
  reloaded(seconds: number): void {
    this.reloads.inc();
    this.reloadSeconds.observe(seconds);
    this.cacheMiss.inc(this.replica);
  }

  /**
   * Registers the gauges read at scrape time: the replica's capacity, and per registered model
   * version its presence, and its memory in memory or evicted. A model version no longer
   * registered has no series (Seldon keeps it at 0).
   */
  observe(
    capacity: { bytes: number; withOvercommitBytes: number },
    residents: () => readonly Resident[],
  ): void {
    if (this.observing) return;
    this.observing = true;
    const replica = this.replica;
    gauge(this.registry, M.capacity).set(replica, capacity.bytes);
    gauge(this.registry, M.capacityOvercommit).set(replica, capacity.withOvercommitBytes);
    const perModel = (pick: (r: Resident) => number) =>
      function collect(this: { reset(): void; set(l: object, v: number): void }) {
        this.reset();
        for (const r of residents()) this.set({ ...replica, model_internal: r.name }, pick(r));
      };
    gauge(
      this.registry,
      M.loaded,
      perModel(() => 1),
    );
    gauge(
      this.registry,
      M.loadedMemory,
      perModel((r) => (r.inMemory ? r.bytes : 0)),
    );
    gauge(
      this.registry,
      M.evictedMemory,
      perModel((r) => (r.inMemory ? 0 : r.bytes)),
    );
  }
}
