import { stringify } from 'yaml';

/** Keys that lead a manifest and its metadata, in this order; other keys follow alphabetically. */
const TOP_KEYS = ['apiVersion', 'kind', 'metadata', 'spec'];
const METADATA_KEYS = ['name', 'namespace'];

/**
 * A deep copy of a manifest with a fixed key order (apiVersion, kind, metadata, spec, then the
 * rest; name and namespace lead metadata), nested keys sorted and
 * `undefined`/`null` map values dropped, so the same objects always give the same bytes.
 */
export function canonicalize(manifest: Record<string, unknown>): Record<string, unknown> {
  const out = canonicalMap(manifest, TOP_KEYS);
  const metadata = manifest.metadata;
  if (isMap(metadata)) out.metadata = canonicalMap(metadata, METADATA_KEYS);
  return out;
}

function canonicalMap(
  map: Record<string, unknown>,
  leading: readonly string[] = [],
): Record<string, unknown> {
  const rest = Object.keys(map)
    .filter((k) => !leading.includes(k))
    .sort();
  const out: Record<string, unknown> = {};
  for (const key of [...leading.filter((k) => Object.hasOwn(map, k)), ...rest]) {
    const value = map[key];
    if (value === undefined || value === null) continue;
    // A plain assignment to `__proto__` would set the prototype instead of adding the key.
    Object.defineProperty(out, key, {
      value: canonicalValue(value),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function canonicalValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalValue);
  return isMap(value) ? canonicalMap(value) : value;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * YAML text of one or more manifests, documents separated by `---`.
 *
 * YAML 1.1 rules decide quoting because Kubernetes tooling still parses 1.1: strings such as
 * `on`, `yes` or `0755` stay strings. Lines are never folded, and repeated objects are written
 * out rather than turned into anchors, so the text reads like hand-written YAML.
 */
export function toYaml(...manifests: Record<string, unknown>[]): string {
  return manifests
    .map((m) => stringify(canonicalize(m), { version: '1.1', lineWidth: 0, aliasDuplicateObjects: false }))
    .join('---\n');
}
