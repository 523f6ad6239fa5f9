/** Recognising our objects among any Kubernetes objects. */
import { API_GROUP, API_VERSION, MLOPS_KINDS, type MlopsKind } from './types.ts';

/** Whether an apiVersion belongs to the `mlops.seldon.io` group, at any version. */
export function isMlopsApiVersion(apiVersion: string): boolean {
  return apiVersion.startsWith(`${API_GROUP}/`);
}

/** Whether an object claims to be one of our five kinds, at the version this project speaks. */
export function isMlopsObject(obj: unknown): obj is { apiVersion: string; kind: MlopsKind } {
  const o = obj as { apiVersion?: unknown; kind?: unknown } | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    o.apiVersion === API_VERSION &&
    MLOPS_KINDS.includes(o.kind as MlopsKind)
  );
}
