// Reads the live counterparts of desired objects from a cluster and keeps only the fields the
// desired objects declare, so server defaults and controller-owned fields never show as changes.
import {
  ApiException,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  type ResponseContext,
} from '@kubernetes/client-node';
import type { KubeObject } from '../../spec/types.ts';
import { identityOf } from '../identity.ts';
import type { Manifest } from '../manifests.ts';
import { sameQuantity } from '../quantity.ts';
import { equal } from './field-diff.ts';

export interface LiveOptions {
  kubeconfig?: string;
  context?: string;
  /** Parallel GET requests. */
  concurrency?: number;
}

export class LiveError extends Error {
  override name = 'LiveError';
}

export function kubeConfig(opts: LiveOptions): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new LiveError(
      `cannot load kubeconfig ${opts.kubeconfig ?? '(default)'}: ${(err as Error).message}`,
    );
  }
  if (opts.context) {
    if (!kc.getContexts().some((c) => c.name === opts.context)) {
      throw new LiveError(
        `kubeconfig has no context "${opts.context}" (have: ${kc
          .getContexts()
          .map((c) => c.name)
          .join(', ')})`,
      );
    }
    kc.setCurrentContext(opts.context);
  }
  if (!kc.getCurrentCluster())
    throw new LiveError('kubeconfig has no current cluster; pass --kubeconfig or --context');
  return kc;
}

/**
 * Returns `{ base, head }` for compareManifests: base = live objects (projected onto the desired
 * fields), head = desired objects as the API server would store them. Objects missing from the
 * cluster are absent from base and so show as added.
 */
export async function liveComparison(
  desired: Manifest[],
  opts: LiveOptions,
): Promise<{ base: Manifest[]; head: Manifest[] }> {
  const kc = kubeConfig(opts);
  const client = kc.makeApiClient(WireObjectApi);
  client.setDefaultNamespace(kc);
  const head = desired.map((m) => ({ ...m, object: storedForm(m.object) }));
  const base: Manifest[] = [];
  const queue = [...head];
  const worker = async () => {
    for (let m = queue.shift(); m; m = queue.shift()) {
      const live = await readLive(client, m.object);
      if (!live) continue;
      const object = project(live, m.object) as KubeObject;
      base.push({ object, file: 'cluster', doc: 0, id: identityOf(object, m.id.set) });
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  return { base, head };
}

/**
 * Reads objects as the API server sends them. The typed models rename fields (a CRD schema's
 * `default`, `enum` and `x-kubernetes-*`), which would otherwise show as differences.
 */
class WireObjectApi extends KubernetesObjectApi {
  protected override processResponse<T extends KubernetesObject>(response: ResponseContext): Promise<T> {
    return super.processResponse<T>(response, 'KubernetesObject');
  }
  override setDefaultNamespace(kc: KubeConfig): string {
    return super.setDefaultNamespace(kc);
  }
}

async function readLive(client: KubernetesObjectApi, o: KubeObject): Promise<KubeObject | undefined> {
  const header = {
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: { name: o.metadata.name, namespace: o.metadata.namespace },
  };
  try {
    return (await client.read(
      header as KubernetesObject & { metadata: { name: string } },
    )) as unknown as KubeObject;
  } catch (err) {
    // Not found, or its kind is not served (yet): the object does not exist in the cluster.
    if (err instanceof ApiException && err.code === 404) return undefined;
    if (err instanceof Error && err.message.startsWith('Unrecognized API version and kind')) return undefined;
    const what = `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
    const detail = err instanceof ApiException ? `HTTP ${err.code}` : (err as Error).message;
    throw new LiveError(`cannot read ${what} from the cluster: ${detail}`);
  }
}

/** A Secret's `stringData` is write-only: the API server stores it base64-encoded in `data`. */
function storedForm(o: KubeObject): KubeObject {
  if (o.kind !== 'Secret' || o.apiVersion !== 'v1' || !o.stringData) return o;
  const { stringData, ...rest } = o as KubeObject & {
    stringData: Record<string, string>;
    data?: Record<string, string>;
  };
  const data = { ...(rest.data ?? {}) };
  for (const [k, v] of Object.entries(stringData))
    data[k] = Buffer.from(String(v), 'utf8').toString('base64');
  return { ...rest, data } as KubeObject;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const KEYS = ['name', 'mountPath', 'devicePath', 'containerPort', 'port', 'ip', 'type'];

/** The live value restricted to what the desired value declares. */
export function project(live: unknown, desired: unknown): unknown {
  if (isObj(live) && isObj(desired)) {
    const out: Obj = {};
    for (const k of Object.keys(desired)) if (k in live) out[k] = project(live[k], desired[k]);
    return out;
  }
  if (Array.isArray(live) && Array.isArray(desired)) {
    const key = KEYS.find((k) => [...live, ...desired].every((x) => isObj(x) && k in x));
    if (key) {
      const want = new Map(desired.map((d) => [String((d as Obj)[key]), d]));
      // Items the cluster has but the desired list lacks stay: applying removes them.
      return live.map((l) => {
        const d = want.get(String((l as Obj)[key]));
        return d === undefined ? l : project(l, d);
      });
    }
    return live.map((l, i) => (i < desired.length ? project(l, desired[i]) : l));
  }
  if (!equal(live, desired) && sameQuantity(live, desired)) return desired;
  return live;
}
