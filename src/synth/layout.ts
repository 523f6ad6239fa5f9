/** Where each synthesized object goes inside an app's output folder. */

export type Manifest = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
};

/** Custom resource definitions share one file whose name sorts before every object file. */
export const CRDS_FILE = '00-crds.yaml';
/**
 * Namespaces share the next one, so `kubectl apply -f <folder>` (which applies files in name
 * order) creates them before the objects that live in them.
 */
export const NAMESPACES_FILE = '00-namespaces.yaml';

/** `<group or "core">_<Kind>_<namespace or "cluster">_<name>.yaml`: unique per object in a cluster. */
export function objectFileName(m: Manifest): string {
  const slash = m.apiVersion.indexOf('/');
  const group = slash < 0 ? 'core' : m.apiVersion.slice(0, slash);
  const parts = [group, m.kind, m.metadata.namespace || 'cluster', m.metadata.name];
  return `${parts.map(safe).join('_')}.yaml`;
}

/** Whether a file in an output folder is one this writer manages (and may replace or remove). */
export function isManagedFile(fileName: string): boolean {
  return fileName === CRDS_FILE || fileName === NAMESPACES_FILE || MANAGED.test(fileName);
}

const MANAGED = /^[A-Za-z0-9.-]+_[A-Za-z0-9.-]+_[A-Za-z0-9.-]+_[A-Za-z0-9.-]+\.yaml$/;

// Names such as RBAC's `system:foo` hold characters that do not belong in file names; the
// writer reports a clash if two objects end up with the same file.
function safe(part: string): string {
  return part.replace(/[^A-Za-z0-9.-]/g, '-');
}

export function isCustomResourceDefinition(m: Manifest): boolean {
  return m.kind === 'CustomResourceDefinition' && m.apiVersion.startsWith('apiextensions.k8s.io/');
}

export function isNamespace(m: Manifest): boolean {
  return m.kind === 'Namespace' && m.apiVersion === 'v1';
}

/** The shared file an object goes to, if it is one that must exist before the others. */
export function foundationFile(m: Manifest): string | undefined {
  if (isCustomResourceDefinition(m)) return CRDS_FILE;
  if (isNamespace(m)) return NAMESPACES_FILE;
  return undefined;
}
