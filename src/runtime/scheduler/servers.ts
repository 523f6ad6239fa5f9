import { replicaCapacityBytes } from '../../spec/rules.ts';
import type { ReplicaConfig } from '../protocol/control.ts';
import type { PolicyName, ReplicaView, ServerView } from './placement/types.ts';

/** One connected server pod, as the scheduler accounts for it. */
export class ServerReplica implements ReplicaView {
  committedBytes = 0;
  draining = false;
  /** The agent said its inference server is not answering; a new registration starts afresh. */
  serverDown = false;
  readonly models = new Map<string, Set<number>>();
  readonly capabilities: ReadonlySet<string>;
  readonly capacityBytes: number;

  /** Told when this replica's free memory changes (the owning server's cache). */
  onChange: () => void = () => {};

  constructor(
    readonly serverName: string,
    readonly idx: number,
    readonly config: ReplicaConfig,
  ) {
    this.capabilities = new Set(config.capabilities.map((c) => c.trim()).filter((c) => c !== ''));
    this.capacityBytes = replicaCapacityBytes(config.memoryBytes, config.overCommitPercentage);
  }

  assign(model: string, version: number, bytes: number): void {
    let versions = this.models.get(model);
    if (!versions) {
      versions = new Set();
      this.models.set(model, versions);
    }
    if (versions.has(version)) return;
    versions.add(version);
    this.committedBytes += bytes;
    this.onChange();
  }

  release(model: string, version: number, bytes: number): void {
    const versions = this.models.get(model);
    if (!versions?.delete(version)) return;
    if (versions.size === 0) this.models.delete(model);
    this.committedBytes -= bytes;
    this.onChange();
  }
}

export interface ServerDesired {
  replicas: number;
  minReplicas: number;
  maxReplicas: number;
  policy: PolicyName;
}

/** A Server: what its resource asks for plus the replicas whose agents are connected. */
export class ServerEntry implements ServerView {
  replicas: ServerReplica[] = [];
  capabilities: ReadonlySet<string> = new Set();
  /** Undefined until the Server resource is seen (agents may connect first). */
  desired?: ServerDesired;
  namespace = '';
  private maxFree: number | undefined;

  constructor(readonly name: string) {}

  /** Cached until a replica's memory changes; draining pods count too (an upper bound). */
  maxFreeBytes(): number {
    if (this.maxFree === undefined) {
      let m = 0;
      for (const r of this.replicas) m = Math.max(m, r.capacityBytes - r.committedBytes);
      this.maxFree = m;
    }
    return this.maxFree;
  }

  get expectedReplicas(): number {
    return this.desired ? this.desired.replicas : -1;
  }

  get policy(): PolicyName {
    return this.desired?.policy ?? 'spread';
  }

  replica(idx: number): ServerReplica | undefined {
    return this.replicas.find((r) => r.idx === idx);
  }

  addReplica(r: ServerReplica): void {
    this.replicas = [...this.replicas.filter((x) => x.idx !== r.idx), r].sort((a, b) => a.idx - b.idx);
    r.onChange = () => {
      this.maxFree = undefined;
    };
    this.maxFree = undefined;
    this.recomputeCapabilities();
  }

  removeReplica(idx: number): ServerReplica | undefined {
    const r = this.replica(idx);
    this.replicas = this.replicas.filter((x) => x.idx !== idx);
    this.maxFree = undefined;
    this.recomputeCapabilities();
    return r;
  }

  /** Capabilities all replicas share, so one server-level check covers every pod. */
  private recomputeCapabilities(): void {
    const [first, ...rest] = this.replicas;
    const caps = new Set(first ? first.capabilities : []);
    for (const r of rest) for (const c of caps) if (!r.capabilities.has(c)) caps.delete(c);
    this.capabilities = caps;
  }
}
