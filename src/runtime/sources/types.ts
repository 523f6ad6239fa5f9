import type { MlopsResource, ModelStatus, ServerStatus, StatusBase } from '../../spec/types.ts';

export type ScaleOutcome = 'scaled' | 'missing';

export type WatchedKind = 'Model' | 'Server' | 'Pipeline' | 'Experiment';
export const WATCHED_KINDS: readonly WatchedKind[] = ['Model', 'Server', 'Pipeline', 'Experiment'];

/** Receives desired state from a source. */
export interface DesiredStateHandler {
  upsert(resource: MlopsResource): void;
  remove(kind: WatchedKind, namespace: string, name: string): void;
  /** Everything that existed at start has been delivered once. */
  synced(): void;
}

/** Where desired state comes from (Kubernetes API or a folder of manifests), and where status and
 * scaling decisions go back to. */
export interface DesiredStateSource {
  start(handler: DesiredStateHandler): Promise<void>;
  stop(): Promise<void>;
  writeModelStatus(namespace: string, name: string, status: ModelStatus): Promise<void>;
  writeServerStatus(namespace: string, name: string, status: ServerStatus): Promise<void>;
  writeExperimentStatus(namespace: string, name: string, status: StatusBase): Promise<void>;
  writePipelineStatus(namespace: string, name: string, status: StatusBase): Promise<void>;
  /**
   * Sets `spec.replicas` through the scale subresource (Kubernetes) or in memory (local); for a
   * Server, also the workload running its pods where the runtime owns one. `missing`: the resource
   * was scaled but that workload does not exist (yet).
   */
  scale(kind: 'Model' | 'Server', namespace: string, name: string, replicas: number): Promise<ScaleOutcome>;
  /**
   * Sets the replicas of the workload running a Server's pods (its StatefulSet, through the scale
   * subresource), for sources where the runtime owns one. `missing`: there is none (yet).
   */
  scaleServerPods?(namespace: string, name: string, replicas: number): Promise<ScaleOutcome>;
  /** The replicas a Server's workload is set to; undefined when it has none (yet). */
  serverPods?(namespace: string, name: string): Promise<number | undefined>;
}
