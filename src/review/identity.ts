// Object identity: (group, kind, namespace, name). Never file or position.
import type { KubeObject } from '../spec/types.ts';

export interface Identity {
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

export function identityOf(o: KubeObject): Identity {
  const slash = o.apiVersion.indexOf('/');
  return {
    group: slash < 0 ? '' : o.apiVersion.slice(0, slash),
    kind: o.kind,
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name,
  };
}

export function identityKey(id: Identity): string {
  return `${id.group}|${id.kind}|${id.namespace}|${id.name}`;
}

/** `Model ns/name` or `Model name` for cluster-scoped / namespace-less objects. */
export function describeId(id: Identity): string {
  return `${id.kind} ${id.namespace ? `${id.namespace}/` : ''}${id.name}`;
}

/** Deterministic order: group, kind, namespace, name. */
export function compareIds(a: Identity, b: Identity): number {
  return cmp(a.group, b.group) || cmp(a.kind, b.kind) || cmp(a.namespace, b.namespace) || cmp(a.name, b.name);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
