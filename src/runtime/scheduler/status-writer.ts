import type { ModelStatus, ServerStatus, StatusBase } from '../../spec/types.ts';

/** Where status goes: the Kubernetes API, or memory in local mode. */
export interface StatusSink {
  modelStatus(namespace: string, name: string, status: ModelStatus): void;
  serverStatus(namespace: string, name: string, status: ServerStatus): void;
  experimentStatus?(namespace: string, name: string, status: StatusBase): void;
  pipelineStatus?(namespace: string, name: string, status: StatusBase): void;
}

/** The kinds whose status the scheduler writes, with the shape of that status. */
interface StatusOf {
  Model: ModelStatus;
  Server: ServerStatus;
  Experiment: StatusBase;
  Pipeline: StatusBase;
}
export type StatusKind = keyof StatusOf;

const SEND: { [K in StatusKind]: (sink: StatusSink, ns: string, name: string, status: StatusOf[K]) => void } =
  {
    Model: (sink, ns, name, status) => sink.modelStatus(ns, name, status),
    Server: (sink, ns, name, status) => sink.serverStatus(ns, name, status),
    Experiment: (sink, ns, name, status) => sink.experimentStatus?.(ns, name, status),
    Pipeline: (sink, ns, name, status) => sink.pipelineStatus?.(ns, name, status),
  };

/**
 * Writes the status of every kind to the sink, skipping a status equal to the one last written
 * for the same resource (each flush recomputes status; the API should see only changes).
 */
export class StatusWriter {
  private readonly sent = new Map<string, string>();

  constructor(private readonly sink?: StatusSink) {}

  /** Whether status of `kind` goes anywhere (so callers need not build it). */
  writes(kind: StatusKind): boolean {
    if (!this.sink) return false;
    if (kind === 'Experiment') return !!this.sink.experimentStatus;
    if (kind === 'Pipeline') return !!this.sink.pipelineStatus;
    return true;
  }

  /** Forgets what was written for a deleted resource, so one re-created gets its status again. */
  forget(kind: StatusKind, name: string): void {
    this.sent.delete(`${kind}/${name}`);
  }

  write<K extends StatusKind>(kind: K, namespace: string, name: string, status: StatusOf[K]): void {
    if (!this.sink) return;
    const key = `${kind}/${name}`;
    const text = JSON.stringify(status);
    if (this.sent.get(key) === text) return;
    this.sent.set(key, text);
    SEND[kind](this.sink, namespace, name, status);
  }
}
