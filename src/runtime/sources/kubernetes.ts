import {
  AppsV1Api,
  CustomObjectsApi,
  type Informer,
  KubeConfig,
  type KubernetesObject,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import {
  API_GROUP,
  type MlopsResource,
  type ModelStatus,
  type ServerStatus,
  type StatusBase,
} from '../../spec/types.ts';
import {
  type DesiredStateHandler,
  type DesiredStateSource,
  type ScaleOutcome,
  WATCHED_KINDS,
  type WatchedKind,
} from './types.ts';

const VERSION = 'v1alpha1';
const PLURAL: Record<WatchedKind, string> = {
  Model: 'models',
  Server: 'servers',
  Pipeline: 'pipelines',
  Experiment: 'experiments',
};
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/**
 * Desired state from the Kubernetes API: one informer (list + watch, re-listing after errors)
 * per kind, in one namespace. Status goes to the `status` subresource, replica changes to
 * the `scale` subresource (and, for a Server, to its StatefulSet's).
 */
export class KubernetesSource implements DesiredStateSource {
  private readonly informers: Informer<KubernetesObject>[] = [];
  private readonly custom: CustomObjectsApi;
  private readonly apps: AppsV1Api;

  constructor(
    private readonly kc: KubeConfig,
    private readonly log: Logger,
    private readonly namespace: string,
    /** The kinds to watch: the scheduler watches all four, the dataflow only Pipelines. */
    private readonly kinds: readonly WatchedKind[] = WATCHED_KINDS,
  ) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.apps = kc.makeApiClient(AppsV1Api);
  }

  static fromDefaultConfig(
    log: Logger,
    namespace: string,
    kinds: readonly WatchedKind[] = WATCHED_KINDS,
  ): KubernetesSource {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    return new KubernetesSource(kc, log, namespace, kinds);
  }

  async start(handler: DesiredStateHandler): Promise<void> {
    // Servers first so the models' first placement sees them.
    const order = this.kinds.includes('Server')
      ? ['Server' as const, ...this.kinds.filter((k) => k !== 'Server')]
      : this.kinds;
    for (const kind of order) {
      const plural = PLURAL[kind];
      const namespace = this.namespace;
      const path = `/apis/${API_GROUP}/${VERSION}/namespaces/${namespace}/${plural}`;
      const list = () =>
        this.custom.listNamespacedCustomObject({
          group: API_GROUP,
          version: VERSION,
          namespace,
          plural,
        }) as Promise<{
          items: KubernetesObject[];
          metadata: { resourceVersion?: string };
        }>;
      const informer = makeInformer<KubernetesObject>(this.kc, path, list);
      const upsert = (o: KubernetesObject) => handler.upsert(o as unknown as MlopsResource);
      informer.on('add', upsert);
      informer.on('update', upsert);
      informer.on('delete', (o) => handler.remove(kind, o.metadata?.namespace ?? '', o.metadata?.name ?? ''));
      informer.on('error', (err: unknown) => {
        this.log.warn(
          { kind, err: (err as Error)?.message ?? String(err) },
          'watch failed; re-listing in 2 s',
        );
        setTimeout(() => informer.start().catch(() => undefined), 2000).unref();
      });
      await informer.start();
      this.informers.push(informer);
    }
    handler.synced();
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  writeModelStatus(namespace: string, name: string, status: ModelStatus): Promise<void> {
    return this.patchStatus('models', namespace, name, status);
  }

  writeServerStatus(namespace: string, name: string, status: ServerStatus): Promise<void> {
    return this.patchStatus('servers', namespace, name, status);
  }

  writeExperimentStatus(namespace: string, name: string, status: StatusBase): Promise<void> {
    return this.patchStatus('experiments', namespace, name, status);
  }

  writePipelineStatus(namespace: string, name: string, status: StatusBase): Promise<void> {
    return this.patchStatus('pipelines', namespace, name, status);
  }

  async scale(
    kind: 'Model' | 'Server',
    namespace: string,
    name: string,
    replicas: number,
  ): Promise<ScaleOutcome> {
    await this.custom.patchNamespacedCustomObjectScale(
      {
        group: API_GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL[kind],
        name,
        body: { spec: { replicas } },
      },
      MERGE_PATCH,
    );
    return kind === 'Server' ? this.scaleServerPods(namespace, name, replicas) : 'scaled';
  }

  /** No operator sits between a Server and its StatefulSet: the scheduler scales both. */
  async scaleServerPods(namespace: string, name: string, replicas: number): Promise<ScaleOutcome> {
    try {
      await this.apps.patchNamespacedStatefulSetScale(
        { name, namespace, body: { spec: { replicas } } },
        MERGE_PATCH,
      );
      return 'scaled';
    } catch (err) {
      if ((err as { code?: number }).code === 404) return 'missing';
      throw err;
    }
  }

  async serverPods(namespace: string, name: string): Promise<number | undefined> {
    try {
      return (await this.apps.readNamespacedStatefulSetScale({ name, namespace })).spec?.replicas ?? 0;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }

  private async patchStatus(plural: string, namespace: string, name: string, status: object): Promise<void> {
    // Conditions are replaced as a whole (merge patch on a list), which is what we want.
    await this.custom.patchNamespacedCustomObjectStatus(
      { group: API_GROUP, version: VERSION, namespace, plural, name, body: { status } },
      MERGE_PATCH,
    );
  }
}
