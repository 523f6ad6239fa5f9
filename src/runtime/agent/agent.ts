import type http from 'node:http';
import type http2 from 'node:http2';
import type { Logger } from 'pino';
import { replicaCapacityBytes } from '../../spec/rules.ts';
import type {
  AgentSubscribeRequest,
  ModelDefinition,
  ModelEventType,
  ModelOperation,
} from '../protocol/control.ts';
import { internalModelName } from '../protocol/control.ts';
import { type AdminServer, startAdminServer } from '../service/admin-server.ts';
import type { CredentialSource } from '../service/identity.ts';
import { listen } from '../service/process.ts';
import { endSpan, startOperationSpan } from '../telemetry/tracing.ts';
import { type ArtifactSource, fileSource, httpSource } from './artifact-source.ts';
import { ArtifactCache, type RetryPolicy } from './artifacts.ts';
import { drainRoutes } from './drain-routes.ts';
import { createGrpcProxy } from './grpc-proxy.ts';
import { AgentMetrics } from './metrics.ts';
import { ModelManager } from './model-manager.ts';
import { createRestProxy } from './proxy.ts';
import { RcloneSource } from './rclone-source.ts';
import { type ModelServer, RepositoryClient } from './repository-client.ts';
import { SchedulerClient } from './scheduler-client.ts';
import { ServerWatch } from './server-watch.ts';
import { KubernetesSecretReader, type SecretReader } from './storage-secrets.ts';

export interface ScalingOptions {
  /** Requests in flight on one model at which a scale-up is asked for. */
  lagThreshold: number;
  /** Seconds without a request after which a scale-down is asked for. */
  inactiveSeconds: number;
  periodMs: number;
}

export interface AgentOptions {
  serverName: string;
  replicaIdx: number;
  namespace?: string;
  schedulerAddress: string;
  /** REST base URL of the inference server (MLServer or Triton). */
  inferenceUrl: string;
  /** `host:port` of the inference server's gRPC endpoint; enables the gRPC proxy. */
  inferenceGrpc?: string;
  /** gRPC proxy port (0 = any free one). */
  grpcPort?: number;
  /** The inference server's model repository folder. */
  modelsDir: string;
  cacheDir: string;
  memoryBytes: number;
  overCommitPercentage: number;
  capabilities: string[];
  /** Host the gateways use to reach this agent's proxy. */
  advertiseHost: string;
  /** Proxy port (0 = any free one); the advertised port unless `advertiseHttpPort` is set. */
  httpPort: number;
  advertiseHttpPort?: number;
  advertiseGrpcPort?: number;
  /** Readiness, drain and metrics. */
  adminPort: number;
  /** Address the proxies and the admin server listen on. @default every interface */
  listen?: string;
  minResidencyMs?: number;
  unloadGraceMs?: number;
  drainTimeoutMs?: number;
  scaling?: ScalingOptions;
  log: Logger;
  /** Where the agent counts (default: a registry of its own). */
  metrics?: AgentMetrics;
  /** Overrides the inference server client (tests). */
  modelServer?: ModelServer;
  /** Artifact downloads; defaults: file://, http(s):// and rclone remotes, 4 at once. */
  artifacts?: ArtifactOptions;
  /** What the agent presents to the scheduler (a token or the run's secret). */
  credential?: CredentialSource;
  /** The run's control secret (`mlops dev`): `/terminate` then requires it. */
  controlSecret?: string;
}

export interface ArtifactOptions {
  /** The rclone binary (s3://, gs://, az://). */
  rclone?: string;
  /** Secrets (in the agent's namespace) with the namespace-wide default remotes. */
  storageSecrets?: string[];
  /** Downloads at once. */
  maxConcurrent?: number;
  retry?: RetryPolicy;
  /** `host:port` of the gateway (explainers and LLM models call their targets through it). */
  gateway?: string;
  /** Overrides the Kubernetes Secret reader (tests). */
  secrets?: SecretReader;
}

function artifactSources(opts: AgentOptions): ArtifactSource[] {
  const a = opts.artifacts ?? {};
  const rclone = new RcloneSource({
    binary: a.rclone ?? 'rclone',
    secrets: a.secrets ?? new KubernetesSecretReader(),
    defaultSecrets: a.storageSecrets ?? [],
    namespace: opts.namespace ?? 'default',
    env: process.env,
  });
  return [fileSource, httpSource, rclone];
}

/** The sidecar in each server pod: registers with the scheduler, carries out its load and unload
 * operations, proxies inference, and serves readiness, drain and metrics. */
export class Agent {
  readonly metrics: AgentMetrics;
  readonly manager: ModelManager;
  private readonly scheduler: SchedulerClient;
  private readonly modelServer: ModelServer;
  private readonly queues = new Map<string, Promise<void>>();
  private proxy?: http.Server;
  private grpcProxy?: http2.Http2Server;
  private admin?: AdminServer;
  private scalingTimer?: NodeJS.Timeout;
  private serverReady = false;
  private readonly watch: ServerWatch;
  /** From the server going away until its models are loaded again; unlike `watch.up` already
   * false for the registration that announces its return. */
  private serverAway = false;
  draining = false;
  httpPort = 0;
  grpcPort = 0;
  adminPort = 0;

  constructor(private readonly opts: AgentOptions) {
    this.metrics = opts.metrics ?? new AgentMetrics({ server: opts.serverName, replica: opts.replicaIdx });
    this.modelServer = opts.modelServer ?? new RepositoryClient(opts.inferenceUrl);
    this.manager = new ModelManager({
      cache: new ArtifactCache(opts.cacheDir, opts.modelsDir, {
        sources: artifactSources(opts),
        maxConcurrent: opts.artifacts?.maxConcurrent,
        retry: opts.artifacts?.retry,
        gateway: opts.artifacts?.gateway,
        log: opts.log,
        metrics: this.metrics,
      }),
      server: this.modelServer,
      metrics: this.metrics,
      log: opts.log,
      memoryBytes: opts.memoryBytes,
      minResidencyMs: opts.minResidencyMs,
      unloadGraceMs: opts.unloadGraceMs,
    });
    this.metrics.observe(
      {
        bytes: opts.memoryBytes,
        withOvercommitBytes: replicaCapacityBytes(opts.memoryBytes, opts.overCommitPercentage),
      },
      () => this.manager.lru.list(),
    );
    this.watch = new ServerWatch({
      ready: () => (this.modelServer.alive ?? this.modelServer.ready).call(this.modelServer),
      onDown: () => this.serverDown(),
      onUp: () => this.serverBack(),
      log: opts.log,
    });
    this.scheduler = new SchedulerClient(
      opts.schedulerAddress,
      () => this.subscription(),
      (op) => this.enqueue(op),
      opts.log,
      opts.credential,
    );
  }

  async start(): Promise<void> {
    const log = this.opts.log;
    this.proxy = createRestProxy({
      manager: this.manager,
      upstream: this.opts.inferenceUrl,
      metrics: this.metrics,
      log,
      serverUp: () => this.watch.up,
      onServerFailure: () => void this.watch.unreachable(),
    });
    this.httpPort = await listen(this.proxy, this.opts.httpPort, this.opts.listen);
    if (this.opts.inferenceGrpc) {
      this.grpcProxy = createGrpcProxy({
        manager: this.manager,
        upstream: this.opts.inferenceGrpc,
        metrics: this.metrics,
        log,
        serverUp: () => this.watch.up,
        onServerFailure: () => void this.watch.unreachable(),
      });
      this.grpcPort = await listen(this.grpcProxy, this.opts.grpcPort ?? 0, this.opts.listen);
    }
    this.admin = await this.startAdmin();
    this.adminPort = this.admin.port;
    // Register only once the inference server answers, so the first loads can succeed.
    for (let i = 0; !(await this.modelServer.ready()); i++) {
      if (i % 20 === 0) log.info({ url: this.opts.inferenceUrl }, 'waiting for the inference server');
      await new Promise((r) => setTimeout(r, 250));
    }
    this.serverReady = true;
    this.watch.start();
    this.scheduler.start();
    if (this.opts.scaling) {
      const s = this.opts.scaling;
      this.scalingTimer = setInterval(() => this.checkScaling(s), s.periodMs);
      this.scalingTimer.unref();
    }
    log.info(
      {
        proxy: this.httpPort,
        admin: this.adminPort,
        server: this.opts.serverName,
        replica: this.opts.replicaIdx,
      },
      'agent started',
    );
  }

  async stop(): Promise<void> {
    if (this.scalingTimer) clearInterval(this.scalingTimer);
    this.watch.stop();
    this.scheduler.close();
    await Promise.all([close(this.proxy), this.admin?.close(), closeHttp2(this.grpcProxy)]);
  }

  /** Stops taking new models and waits until the scheduler has moved this replica's models. */
  async drain(): Promise<boolean> {
    this.draining = true;
    this.opts.log.info('draining');
    try {
      return await this.scheduler.drain(
        this.opts.serverName,
        this.opts.replicaIdx,
        this.opts.drainTimeoutMs ?? 120_000,
      );
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'drain call failed');
      return false;
    }
  }

  /** The inference server went away: the scheduler learns this replica cannot serve its models for
   * now (not that they failed), so gateways stop sending here and status names the replica. */
  private serverDown(): void {
    this.serverAway = true;
    for (const def of this.manager.registered())
      void this.report(def, 'SERVER_DOWN', this.serverDownMessage());
  }

  private serverDownMessage(): string {
    return `the inference server of ${this.opts.serverName}-${this.opts.replicaIdx} stopped answering (restarted?)`;
  }

  /** It is back, empty: load what this replica holds, then register again so routes return. */
  private async serverBack(): Promise<void> {
    for (const def of this.manager.registered()) {
      const name = internalModelName(def.name, def.version);
      // Evicted ones stay on disk, to be loaded on their next request as always.
      if (this.manager.lru.get(name)?.inMemory) await this.manager.reloadLost(name);
    }
    this.serverAway = false;
    this.scheduler.resubscribe();
  }

  private subscription(): AgentSubscribeRequest {
    const registered = this.manager.registered();
    const total = replicaCapacityBytes(this.opts.memoryBytes, this.opts.overCommitPercentage);
    return {
      serverName: this.opts.serverName,
      replicaIdx: this.opts.replicaIdx,
      namespace: this.opts.namespace ?? '',
      replicaConfig: {
        inferenceHost: this.opts.advertiseHost,
        inferenceHttpPort: this.opts.advertiseHttpPort ?? this.httpPort,
        inferenceGrpcPort: this.opts.advertiseGrpcPort ?? this.grpcPort,
        memoryBytes: this.opts.memoryBytes,
        capabilities: this.opts.capabilities,
        overCommitPercentage: this.opts.overCommitPercentage,
      },
      loadedModels: registered.map((d) => ({ name: d.name, version: d.version, model: d })),
      availableMemoryBytes: Math.max(0, total - registered.reduce((a, d) => a + d.memoryBytes, 0)),
      serverDown: this.serverAway,
    };
  }

  /** Operations on one model version run in order; different models proceed independently. */
  private enqueue(op: ModelOperation): void {
    const key = internalModelName(op.model.name, op.model.version);
    const prev = this.queues.get(key) ?? Promise.resolve();
    const next = prev.then(() => this.execute(op));
    this.queues.set(key, next);
    next.finally(() => {
      if (this.queues.get(key) === next) this.queues.delete(key);
    });
  }

  private async execute(op: ModelOperation): Promise<void> {
    const def = op.model;
    let event: ModelEventType;
    let message = '';
    const span = op.operation === 'OPERATION_UNKNOWN' ? undefined : startOperationSpan(op);
    if (op.operation === 'LOAD_MODEL') {
      if (this.draining) {
        event = 'LOAD_FAILED';
        message = 'replica is draining';
      } else if (!this.watch.up) {
        // Until it is back (and this replica registers again) nothing can be loaded here.
        event = 'SERVER_DOWN';
        message = this.serverDownMessage();
      } else if (def.memoryBytes > this.opts.memoryBytes) {
        event = 'LOAD_FAIL_MEMORY';
        message = `model needs ${def.memoryBytes} bytes, the server has ${this.opts.memoryBytes}`;
      } else {
        try {
          await this.manager.load(def);
          event = 'LOADED';
        } catch (err) {
          event = 'LOAD_FAILED';
          message = (err as Error).message;
          this.opts.log.warn(
            { model: internalModelName(def.name, def.version), reason: message },
            'load failed',
          );
        }
      }
    } else if (op.operation === 'UNLOAD_MODEL') {
      try {
        await this.manager.unload(def);
        event = 'UNLOADED';
      } catch (err) {
        event = 'UNLOAD_FAILED';
        message = (err as Error).message;
      }
    } else return;
    endSpan(span, message || undefined);
    await this.report(def, event, message);
  }

  private async report(def: ModelDefinition, event: ModelEventType, message: string): Promise<void> {
    this.opts.log.debug({ model: internalModelName(def.name, def.version), event }, 'reporting');
    try {
      await this.scheduler.report({
        serverName: this.opts.serverName,
        replicaIdx: this.opts.replicaIdx,
        modelName: def.name,
        modelVersion: def.version,
        event,
        message,
        availableMemoryBytes: this.subscription().availableMemoryBytes,
      });
    } catch (err) {
      // The scheduler is away; on reconnect the agent re-sends everything it holds.
      this.opts.log.warn({ err: (err as Error).message, event }, 'could not report to the scheduler');
    }
  }

  private checkScaling(s: ScalingOptions): void {
    const now = Date.now();
    for (const e of this.manager.lru.list()) {
      const def = this.manager.definition(e.name);
      if (!def) continue;
      const base = {
        serverName: this.opts.serverName,
        replicaIdx: this.opts.replicaIdx,
        modelName: def.name,
        modelVersion: def.version,
        amount: 1,
      };
      if (e.inFlight >= s.lagThreshold) {
        this.scheduler.trigger({ ...base, trigger: 'SCALE_UP', metrics: { inFlight: e.inFlight } });
      } else if (now - e.lastUsed >= s.inactiveSeconds * 1000) {
        this.scheduler.trigger({
          ...base,
          trigger: 'SCALE_DOWN',
          metrics: { idleSeconds: Math.floor((now - e.lastUsed) / 1000) },
        });
      }
    }
  }

  /** `/live`, `/ready`, `/metrics`, the pod's preStop `/terminate` and `/drained`, and `/models`. */
  private startAdmin(): Promise<AdminServer> {
    return startAdminServer({
      port: this.opts.adminPort,
      host: this.opts.listen,
      live: () => ({ status: 200, body: { live: true } }),
      ready: () => {
        const ready = this.serverReady && this.watch.up && this.scheduler.connected && !this.draining;
        return {
          status: ready ? 200 : 503,
          body: { ready, draining: this.draining, scheduler: this.scheduler.connected },
        };
      },
      metrics: this.metrics.registry,
      routes: {
        ...drainRoutes({ drain: () => this.drain(), secret: this.opts.controlSecret }),
        '/models': () => ({
          status: 200,
          body: this.manager.lru
            .list()
            .map((e) => ({ name: e.name, inMemory: e.inMemory, lastUsed: e.lastUsed, bytes: e.bytes })),
        }),
      },
      notFound: (path) => ({ status: 404, body: { error: `no route ${path}` } }),
    });
  }
}

function closeHttp2(server?: http2.Http2Server): Promise<void> {
  if (!server) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    setTimeout(resolve, 1000).unref();
  });
}

function close(server?: http.Server): Promise<void> {
  if (!server) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
