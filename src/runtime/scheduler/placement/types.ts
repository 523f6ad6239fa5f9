/** What placement reads about one server pod (a replica of a Server). The store's replica objects
 * implement it directly, so placing a model allocates nothing per candidate. */
export interface ReplicaView {
  readonly serverName: string;
  readonly idx: number;
  /** Memory the agent may register: capacity × (1 + over-commit %). */
  readonly capacityBytes: number;
  /** Memory of every model version assigned here, including loads still in flight. */
  committedBytes: number;
  draining: boolean;
  /** Its inference server is not answering (until the pod registers again). */
  serverDown: boolean;
  /** Model name → versions assigned to this replica (loading, loaded or still unloading). */
  readonly models: Map<string, Set<number>>;
}

export type PolicyName = 'spread' | 'best-fit';

export interface ServerView {
  readonly name: string;
  /** Connected replicas, by ascending index. */
  readonly replicas: readonly ReplicaView[];
  /** Capabilities every connected replica advertises. */
  readonly capabilities: ReadonlySet<string>;
  /** Replicas the Server resource asks for; 0 means it is being deleted, -1 unknown. */
  readonly expectedReplicas: number;
  readonly policy: PolicyName;
  /** Largest free memory among the replicas (an upper bound is enough): lets placement skip a
   * full server without looking at its pods. */
  maxFreeBytes?(): number;
}

export interface PlacementRequest {
  readonly name: string;
  readonly version: number;
  readonly requirements: readonly string[];
  readonly memoryBytes: number;
  /** Pinned server, or empty. */
  readonly server: string;
  readonly replicas: number;
  readonly minReplicas: number;
  /** Server that currently hosts a version of the model, if any. */
  readonly currentServer?: string;
}

export interface Placement {
  readonly ok: true;
  readonly server: string;
  /** Chosen replica indexes, most preferred first. */
  readonly replicas: number[];
  /** True when fewer than `replicas` but at least `minReplicas` could be placed. */
  readonly partial: boolean;
}

export interface PlacementFailure {
  readonly ok: false;
  /** One line per rejected server / replica group, naming the filter that rejected it. */
  readonly reason: string;
}

export type PlacementResult = Placement | PlacementFailure;
