// Object identity: (group, kind, namespace, name), within a set (an app folder of a synth output).
// Never file or position.
import type { KubeObject } from '../spec/types.ts';

export interface Identity {
  /** The app folder the object belongs to (`dist/<app>/` layout), or '' for a single set. */
  set: string;
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

export function identityOf(o: KubeObject, set = ''): Identity {
  const slash = o.apiVersion.indexOf('/');
  return {
    set,
    group: slash < 0 ? '' : o.apiVersion.slice(0, slash),
    kind: o.kind,
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name,
  };
}

export function identityKey(id: Identity): string {
  return `${id.set}|${id.group}|${id.kind}|${id.namespace}|${id.name}`;
}

/** `Model ns/name`, `Model name` for namespace-less objects, prefixed by `[app] ` within a set. */
export function describeId(id: Identity): string {
  return `${id.set ? `[${id.set}] ` : ''}${id.kind} ${id.namespace ? `${id.namespace}/` : ''}${id.name}`;
}

/** Deterministic order: set, group, kind, namespace, name. */
export function compareIds(a: Identity, b: Identity): number {
  return (
    cmp(a.set, b.set) ||
    cmp(a.group, b.group) ||
    cmp(a.kind, b.kind) ||
    cmp(a.namespace, b.namespace) ||
    cmp(a.name, b.name)
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
