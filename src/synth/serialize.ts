import { stringify } from 'yaml';

/** Keys that lead a manifest and its metadata, in this order; other keys follow alphabetically. */
const TOP_KEYS = ['apiVersion', 'kind', 'metadata', 'spec'];
const METADATA_KEYS = ['name', 'namespace'];
const NONE: readonly string[] = [];

/**
 * A manifest with a fixed key order (apiVersion, kind, metadata, spec, then the rest; name and
 * namespace lead metadata), nested keys sorted and `undefined`/`null` map values dropped, so the
 * same objects always give the same bytes. Parts already in that form are reused, not copied:
 * cdk8s renders sorted keys, so most of a manifest is.
 */
export function canonicalize(manifest: Record<string, unknown>): Record<string, unknown> {
  return canonicalMap(manifest, TOP_KEYS, (key) => (key === 'metadata' ? METADATA_KEYS : NONE));
}

function canonicalMap(
  map: Record<string, unknown>,
  leading: readonly string[] = NONE,
  leadingOf: (key: string) => readonly string[] = () => NONE,
): Record<string, unknown> {
  const keys = Object.keys(map);
  const present = keys.filter((k) => map[k] !== undefined && map[k] !== null);
  const ordered = [
    ...leading.filter((k) => present.includes(k)),
    ...present.filter((k) => !leading.includes(k)).sort(),
  ];
  let changed = ordered.length !== keys.length || ordered.some((k, i) => k !== keys[i]);
  const values = ordered.map((key) => {
    const value = canonicalValue(map[key], leadingOf(key));
    if (value !== map[key]) changed = true;
    return value;
  });
  if (!changed) return map;
  const out: Record<string, unknown> = {};
  ordered.forEach((key, i) => {
    // A plain assignment to `__proto__` would set the prototype instead of adding the key.
    if (key === '__proto__') {
      Object.defineProperty(out, key, {
        value: values[i],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      out[key] = values[i];
    }
  });
  return out;
}

function canonicalValue(value: unknown, leading: readonly string[] = NONE): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => canonicalValue(v));
    return items.some((v, i) => v !== value[i]) ? items : value;
  }
  return isMap(value) ? canonicalMap(value, leading) : value;
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
