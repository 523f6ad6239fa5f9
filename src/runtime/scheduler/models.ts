import type { ModelResource } from '../../spec/types.ts';
import type { ModelDefinition } from '../protocol/control.ts';
import type { Scaling } from './model-spec.ts';
import type { ModelState, ReplicaStatus } from './model-state.ts';

/** Key of one server pod in a version's replica map. */
export const replicaKey = (server: string, idx: number) => `${server}/${idx}`;

/** A model version as status, routes and metrics read it (they never change it). */
export interface VersionView {
  readonly definition: ModelDefinition;
  readonly version: number;
  readonly replicas: ReadonlyMap<string, Readonly<ReplicaStatus>>;
  readonly server: string;
  readonly scheduleFailure?: string;
  readonly unplaced: boolean;
  readonly state: ModelState;
  readonly reason: string;
  readonly available: number;
}

/** A model as status, routes and metrics read it. */
export interface ModelView {
  readonly name: string;
  readonly versions: readonly VersionView[];
  readonly latest: VersionView | undefined;
  readonly deleted: boolean;
  readonly resource?: ModelResource;
  readonly scaling: Readonly<Scaling>;
  readonly invalid?: string;
}

/** One version of a Model: its definition and where its replicas are. */
export class ModelVersion implements VersionView {
  readonly replicas = new Map<string, ReplicaStatus>();
  server = '';
  scheduleFailure?: string;
  /** The last placement found no room at all (not even partial). */
  unplaced = false;
  state: ModelState = 'ModelProgressing';
  reason = '';
  available = 0;

  constructor(public definition: ModelDefinition) {}

  get version(): number {
    return this.definition.version;
  }
}

/** A Model as the scheduler holds it: its versions, oldest first, while any has replicas. */
export class ModelEntry implements ModelView {
  versions: ModelVersion[] = [];
  deleted = false;
  /** Undefined while only agents know the model (scheduler restart, before the source lists it). */
  resource?: ModelResource;
  scaling: Scaling = { replicas: 1, minReplicas: 0, maxReplicas: 0 };
  /** A spec the runtime cannot use (reported in status, nothing is placed). */
  invalid?: string;

  constructor(readonly name: string) {}

  get latest(): ModelVersion | undefined {
    return this.versions[this.versions.length - 1];
  }
}
