import pino from 'pino';
import type {
  AgentSubscribeRequest,
  ModelOperation,
  RouteUpdate,
} from '../../../src/runtime/protocol/control.ts';
import { RouteTable } from '../../../src/runtime/protocol/route-table.ts';
import { Scheduler } from '../../../src/runtime/scheduler/scheduler.ts';
import type { StatusSink } from '../../../src/runtime/scheduler/status-writer.ts';
import type { AgentLink } from '../../../src/runtime/scheduler/store.ts';
import type {
  ModelResource,
  ModelSpec,
  ModelStatus,
  ServerResource,
  ServerSpec,
  ServerStatus,
  StatusBase,
} from '../../../src/spec/types.ts';

export const GiB = 1024 ** 3;

export function model(name: string, spec: Partial<ModelSpec> = {}, generation?: number): ModelResource {
  return {
    apiVersion: 'mlops.seldon.io/v1alpha1',
    kind: 'Model',
    metadata: { name, namespace: 'ns', ...(generation ? { generation } : {}) },
    spec: { storageUri: `file:///models/${name}`, requirements: ['sklearn'], memory: '1Gi', ...spec },
  };
}

export function serverResource(
  name: string,
  spec: Partial<ServerSpec> = {},
  annotations?: Record<string, string>,
): ServerResource {
  return {
    apiVersion: 'mlops.seldon.io/v1alpha1',
    kind: 'Server',
    metadata: { name, namespace: 'ns', ...(annotations ? { annotations } : {}) },
    spec: { serverConfig: 'mlserver', ...spec },
  };
}

/** A fake agent: records operations and answers them on demand. */
export class FakeAgent implements AgentLink {
  readonly ops: ModelOperation[] = [];
  readonly loaded = new Set<string>();
  /** Definitions of what `loaded` holds, to register with again. */
  private readonly held = new Map<string, ModelOperation['model']>();
  /** Its inference server is down: loads are answered SERVER_DOWN. */
  private down = false;
  constructor(
    readonly scheduler: Scheduler,
    readonly server: string,
    readonly idx: number,
    readonly memoryBytes = 4 * GiB,
    readonly capabilities = ['mlserver', 'sklearn'],
  ) {}

  connect(loaded: ModelOperation['model'][] = []): this {
    const req: AgentSubscribeRequest = {
      serverName: this.server,
      replicaIdx: this.idx,
      namespace: 'ns',
      replicaConfig: {
        inferenceHost: `${this.server}-${this.idx}`,
        inferenceHttpPort: 9001,
        inferenceGrpcPort: 9501,
        memoryBytes: this.memoryBytes,
        capabilities: this.capabilities,
        overCommitPercentage: 0,
      },
      loadedModels: loaded.map((m) => ({ name: m.name, version: m.version, model: m })),
      availableMemoryBytes: this.memoryBytes,
      serverDown: this.down,
    };
    for (const m of loaded) {
      this.loaded.add(`${m.name}_${m.version}`);
      this.held.set(`${m.name}_${m.version}`, m);
    }
    this.scheduler.agentConnected(req, this);
    return this;
  }

  send(op: ModelOperation): void {
    this.ops.push(op);
  }

  /** Answers every pending operation (LOADED/UNLOADED, or LOAD_FAILED for names in `fail`). */
  answer(fail: Record<string, string> = {}): number {
    const pending = this.ops.splice(0);
    for (const op of pending) {
      const key = `${op.model.name}_${op.model.version}`;
      const base = {
        serverName: this.server,
        replicaIdx: this.idx,
        modelName: op.model.name,
        modelVersion: op.model.version,
        availableMemoryBytes: 0,
      };
      if (op.operation === 'LOAD_MODEL') {
        if (this.down) {
          this.scheduler.agentEvent({ ...base, event: 'SERVER_DOWN', message: this.downMessage() });
        } else if (fail[op.model.name]) {
          this.scheduler.agentEvent({ ...base, event: 'LOAD_FAILED', message: fail[op.model.name] });
        } else {
          this.loaded.add(key);
          this.held.set(key, op.model);
          this.scheduler.agentEvent({ ...base, event: 'LOADED', message: '' });
        }
      } else {
        this.loaded.delete(key);
        this.held.delete(key);
        this.scheduler.agentEvent({ ...base, event: 'UNLOADED', message: '' });
      }
    }
    return pending.length;
  }

  /** Its inference server stopped answering: reports each held model as not served here. */
  serverDown(): void {
    this.down = true;
    for (const m of this.held.values()) {
      this.scheduler.agentEvent({
        serverName: this.server,
        replicaIdx: this.idx,
        modelName: m.name,
        modelVersion: m.version,
        event: 'SERVER_DOWN',
        message: this.downMessage(),
        availableMemoryBytes: 0,
      });
    }
  }

  /** The server is back with what the agent held reloaded: registers again. */
  serverBack(): void {
    this.down = false;
    this.connect([...this.held.values()]);
  }

  private downMessage(): string {
    return `the inference server of ${this.server}-${this.idx} stopped answering`;
  }

  disconnect(): void {
    this.scheduler.agentDisconnected(this.server, this.idx, this);
  }
}

export class MemoryStatus implements StatusSink {
  readonly models = new Map<string, ModelStatus>();
  readonly servers = new Map<string, ServerStatus>();
  readonly experiments = new Map<string, StatusBase>();
  readonly pipelines = new Map<string, StatusBase>();
  modelStatus(_ns: string, name: string, s: ModelStatus): void {
    this.models.set(name, s);
  }
  serverStatus(_ns: string, name: string, s: ServerStatus): void {
    this.servers.set(name, s);
  }
  experimentStatus(_ns: string, name: string, s: StatusBase): void {
    this.experiments.set(name, s);
  }
  pipelineStatus(_ns: string, name: string, s: StatusBase): void {
    this.pipelines.set(name, s);
  }
}

export function harness(opts: { now?: () => number } = {}) {
  const status = new MemoryStatus();
  const scheduler = new Scheduler({
    log: pino({ level: 'silent' }),
    status,
    autoFlush: false,
    waitForServersMs: 0,
    now: opts.now,
  });
  const table = new RouteTable();
  const updates: RouteUpdate[] = [];
  scheduler.onRoutes((u) => {
    updates.push(u);
    table.apply(u);
  });
  /** Flushes and lets agents answer until nothing is pending. */
  const settle = (agents: FakeAgent[], fail: Record<string, string> = {}) => {
    for (let i = 0; i < 20; i++) {
      scheduler.flush();
      const n = agents.reduce((a, ag) => a + ag.answer(fail), 0);
      if (n === 0) return;
    }
    throw new Error('did not settle');
  };
  const endpoints = (name: string) =>
    table.models
      .get(name)
      ?.versions.map((v) => [v.version, v.endpoints.map((e) => `${e.serverName}-${e.replicaIdx}`)]);
  return { scheduler, status, table, updates, settle, endpoints };
}
