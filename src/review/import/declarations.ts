// What an imported app declares: one construct per imported object, a `fromName` reference for
// each object they refer to that the input does not hold, one scope per namespace, and the
// construct ids and variable names, chosen once everything is known.
import type { ReferenceIndex } from '../../spec/reference-index.ts';
import type { KubeObject, MlopsKind } from '../../spec/types.ts';

export interface Decl {
  kind: MlopsKind;
  name: string;
  /** Namespace, '' for objects without one. */
  ns: string;
  /** Undefined for objects declared elsewhere (referenced, not imported). */
  object?: KubeObject;
  /** Construct id and variable name. */
  id: string;
  variable: string;
}

export interface Scope {
  /** Construct id of the Environment (or plain Chart for objects without a namespace). */
  id: string;
  variable: string;
}

const RESERVED = new Set(
  `app break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof let new null return super switch this throw true try typeof var void while with yield await implements interface package private protected public static arguments eval undefined`.split(
    ' ',
  ),
);

/** Names the generated file imports, so no variable may take them. */
const IMPORTED = [
  'Chart',
  'Environment',
  'Experiment',
  'JoinType',
  'MlopsApp',
  'Model',
  'Pipeline',
  'PvcRetentionPolicy',
  'Server',
  'ServerConfig',
];

export class Declarations {
  private readonly byKey = new Map<string, Decl>();
  private readonly serverConfigs = new Map<string, Decl>();
  private readonly used = new Set<string>(IMPORTED);
  /** Referenced objects the input does not hold (server configs excluded: Seldon ships some). */
  readonly external: Decl[] = [];
  readonly scopes = new Map<string, Scope>();

  constructor(objects: readonly KubeObject[], index: ReferenceIndex) {
    for (const o of objects) {
      const d = this.add(o.kind as MlopsKind, o.metadata.namespace ?? '', o.metadata.name, o);
      // Seldon looks server configs up by name in its own namespace.
      if (d.kind === 'ServerConfig') this.serverConfigs.set(d.name, d);
    }
    for (const o of objects) {
      for (const r of index.get(o) ?? []) {
        if (r.role !== 'server-config') this.get(r.kind, o.metadata.namespace ?? '', r.name);
      }
    }
    this.name();
  }

  /** The declaration of a reference from namespace `ns`; unknown ones become `fromName` imports. */
  get(kind: MlopsKind, ns: string, name: string): Decl {
    return this.byKey.get(`${kind}|${ns}|${name}`) ?? this.add(kind, ns, name);
  }

  /** A server configuration the input declares, by name. */
  serverConfig(name: string): Decl | undefined {
    return this.serverConfigs.get(name);
  }

  /** Every declaration by namespace, kind (in dependency-friendly order) and name. */
  ordered(): Decl[] {
    return [...this.byKey.values()].sort(byPlace);
  }

  private add(kind: MlopsKind, ns: string, name: string, object?: KubeObject): Decl {
    const d: Decl = { kind, name, ns, object, id: '', variable: '' };
    this.byKey.set(`${kind}|${ns}|${name}`, d);
    if (!object) this.external.push(d);
    return d;
  }

  private name(): void {
    const decls = [...this.byKey.values()];
    const ids = new Set<string>();
    for (const ns of [...new Set(decls.map((d) => d.ns))].sort()) {
      const variable = this.take(ns ? [camel(ns), `${camel(ns)}Env`] : ['objects', 'defaultChart']);
      let id = ns || 'objects';
      while (ids.has(id)) id = `${id}-chart`;
      ids.add(id);
      this.scopes.set(ns, { id, variable });
    }
    // Construct ids: the name, unless two kinds share it within one scope.
    const byScopeName = new Map<string, Decl[]>();
    for (const d of decls)
      byScopeName.set(`${d.ns}|${d.name}`, [...(byScopeName.get(`${d.ns}|${d.name}`) ?? []), d]);
    for (const group of byScopeName.values()) {
      for (const d of group) d.id = group.length > 1 ? `${d.name}-${d.kind.toLowerCase()}` : d.name;
    }
    for (const d of this.ordered()) {
      const base = camel(d.name);
      d.variable = this.take([base, `${base}${d.kind}`, `${base}${d.kind}${upper(camel(d.ns))}`]);
    }
  }

  private take(candidates: string[]): string {
    for (const c0 of candidates) {
      const c = /^[0-9]/.test(c0) ? `_${c0}` : c0;
      if (c && !RESERVED.has(c) && !this.used.has(c)) {
        this.used.add(c);
        return c;
      }
    }
    const base = candidates[candidates.length - 1];
    for (let i = 2; ; i++) {
      if (!this.used.has(`${base}${i}`)) {
        this.used.add(`${base}${i}`);
        return `${base}${i}`;
      }
    }
  }
}

const KIND_ORDER: MlopsKind[] = ['ServerConfig', 'Server', 'Model', 'Pipeline', 'Experiment'];

export function byPlace(a: Decl, b: Decl): number {
  return cmp(a.ns, b.ns) || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || cmp(a.name, b.name);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function camel(name: string): string {
  const parts = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return parts.map((p, i) => (i === 0 ? p : p[0].toUpperCase() + p.slice(1))).join('');
}

const upper = (s: string) => (s ? s[0].toUpperCase() + s.slice(1) : s);
