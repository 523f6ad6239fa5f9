// Turns checked Seldon Core 2 objects into a readable TypeScript app built from our constructs.
import type {
  ExperimentSpec,
  KubeObject,
  ModelSpec,
  PipelineSpec,
  PipelineStepSpec,
  ServerConfigSpec,
  ServerSpec,
} from '../../spec/types.ts';
import { EXTERNAL_REF, STEP_REF } from './check.ts';
import { arr, call, type Expr, literal, obj, raw, statement, str } from './printer.ts';

type Kind = 'Model' | 'Server' | 'ServerConfig' | 'Pipeline' | 'Experiment';

interface Decl {
  kind: Kind;
  name: string;
  /** Namespace, '' for objects without one. */
  ns: string;
  object?: KubeObject;
  /** Construct id and variable name, assigned once everything is known. */
  id: string;
  variable: string;
}

const RESERVED = new Set(
  `app break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof let new null return super switch this throw true try typeof var void while with yield await implements interface package private protected public static arguments eval undefined`.split(
    ' ',
  ),
);

function camel(name: string): string {
  const parts = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const s = parts.map((p, i) => (i === 0 ? p : p[0].toUpperCase() + p.slice(1))).join('');
  return s;
}
const upper = (s: string) => (s ? s[0].toUpperCase() + s.slice(1) : s);

class Names {
  private used = new Set<string>([
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
  ]);
  take(candidates: string[]): string {
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

export interface GenerateOptions {
  /** Shown in the header comment (file names, not paths). */
  sources: string[];
}

export function generateApp(objects: KubeObject[], options: GenerateOptions): string {
  const decls = new Map<string, Decl>(); // `${kind}|${ns}|${name}`
  const k = (kind: Kind, ns: string, name: string) => `${kind}|${ns}|${name}`;
  for (const o of objects) {
    const ns = o.metadata.namespace ?? '';
    decls.set(k(o.kind as Kind, ns, o.metadata.name), {
      kind: o.kind as Kind,
      name: o.metadata.name,
      ns,
      object: o,
      id: '',
      variable: '',
    });
  }
  const serverConfigsByName = new Map(
    objects.filter((o) => o.kind === 'ServerConfig').map((o) => [o.metadata.name, o]),
  );
  const external: Decl[] = [];
  /** The declaration a reference resolves to; unknown ones become `fromName` imports. */
  const ref = (kind: Kind, ns: string, name: string): Decl => {
    const key = k(kind, ns, name);
    let d = decls.get(key);
    if (!d) {
      d = { kind, name, ns, id: '', variable: '' };
      decls.set(key, d);
      external.push(d);
    }
    return d;
  };

  // Resolve every reference first so all declarations exist before naming.
  for (const o of objects) {
    const ns = o.metadata.namespace ?? '';
    const spec = o.spec as Record<string, unknown>;
    if (o.kind === 'Model') {
      const s = spec as unknown as ModelSpec;
      if (s.server) ref('Server', ns, s.server);
      for (const t of [s.explainer, s.llm]) {
        if (t?.modelRef) ref('Model', ns, t.modelRef);
        if (t?.pipelineRef) ref('Pipeline', ns, t.pipelineRef);
      }
    }
    if (o.kind === 'Pipeline') {
      const s = spec as unknown as PipelineSpec;
      for (const st of s.steps) ref('Model', ns, st.name);
      const ext = (r: string) => {
        const m = EXTERNAL_REF.exec(r);
        if (!m) return;
        ref('Pipeline', ns, m[1]);
        if (m[2]) ref('Model', ns, m[2]);
      };
      for (const r of [
        ...(s.input?.externalInputs ?? []),
        ...(s.input?.externalTriggers ?? []),
        ...Object.keys(s.input?.tensorMap ?? {}),
      ])
        ext(r);
    }
    if (o.kind === 'Experiment') {
      const s = spec as unknown as ExperimentSpec;
      const kind: Kind = s.resourceType === 'pipeline' ? 'Pipeline' : 'Model';
      for (const c of s.candidates) ref(kind, ns, c.name);
      if (s.mirror) ref(kind, ns, s.mirror.name);
    }
  }

  // Scopes: one Environment per namespace, one plain Chart for objects without a namespace.
  const names = new Names();
  const namespaces = [...new Set([...decls.values()].map((d) => d.ns))].sort();
  const scopeVar = new Map<string, string>();
  const scopeIds = new Map<string, string>(); // namespace → chart id
  for (const ns of namespaces) {
    scopeVar.set(ns, names.take(ns ? [camel(ns), `${camel(ns)}Env`] : ['objects', 'defaultChart']));
    let id = ns || 'objects';
    while ([...scopeIds.values()].includes(id)) id = `${id}-chart`;
    scopeIds.set(ns, id);
  }

  // Construct ids: the name, unless two kinds share it within one scope.
  const byScopeName = new Map<string, Decl[]>();
  for (const d of decls.values()) {
    const key = `${d.ns}|${d.name}`;
    byScopeName.set(key, [...(byScopeName.get(key) ?? []), d]);
  }
  for (const group of byScopeName.values()) {
    for (const d of group) d.id = group.length > 1 ? `${d.name}-${d.kind.toLowerCase()}` : d.name;
  }
  const ordered = [...decls.values()].sort(
    (a, b) => cmp(a.ns, b.ns) || order(a.kind) - order(b.kind) || cmp(a.name, b.name),
  );
  for (const d of ordered) {
    const base = camel(d.name);
    d.variable = names.take([base, `${base}${d.kind}`, `${base}${d.kind}${upper(camel(d.ns))}`]);
  }

  const get = (kind: Kind, ns: string, name: string) => decls.get(k(kind, ns, name)) as Decl;
  const v = (d: Decl) => raw(d.variable);
  const idName = (d: Decl): Array<[string, Expr | undefined]> => [
    ['name', d.id === d.name ? undefined : str(d.name)],
  ];
  const imports = new Set<string>(['MlopsApp']);
  const body: string[] = [];
  const joinType = (j: string | undefined): Expr | undefined => {
    if (j === undefined) return undefined;
    imports.add('JoinType');
    return raw(`JoinType.${j.toUpperCase()}`);
  };
  const num = (n: number | undefined) => (n === undefined ? undefined : raw(String(n)));
  const bool = (b: boolean | undefined) => (b === undefined ? undefined : raw(String(b)));
  const strings = (a: string[] | undefined) => (a === undefined ? undefined : arr(a.map(str)));

  // Scopes.
  body.push('const app = new MlopsApp();');
  for (const ns of namespaces) {
    const id = scopeIds.get(ns) as string;
    if (ns) {
      imports.add('Environment');
      body.push(
        statement(
          call('new Environment', raw('app'), str(id), obj([['namespace', str(ns)]])),
          scopeVar.get(ns),
        ),
      );
    } else {
      imports.add('Chart');
      body.push(
        '// Objects without a namespace: a plain chart keeps them namespace-less.',
        statement(
          call('new Chart', raw('app'), str(id), obj([['disableResourceNameHashes', raw('true')]])),
          scopeVar.get(ns),
        ),
      );
    }
  }
  const scope = (d: Decl) => raw(scopeVar.get(d.ns) as string);

  // References to objects that are not part of the input.
  const externals = external.filter((d) => d.kind !== 'ServerConfig');
  if (externals.length) {
    body.push('', '// Declared elsewhere: referenced here, not part of the imported files.');
    for (const d of externals.sort(
      (a, b) => cmp(a.ns, b.ns) || order(a.kind) - order(b.kind) || cmp(a.name, b.name),
    )) {
      imports.add(d.kind);
      body.push(statement(call(`${d.kind}.fromName`, scope(d), str(d.id), str(d.name)), d.variable));
    }
  }

  const serverConfig = (name: string): Expr => {
    const own = serverConfigsByName.get(name);
    if (own) return v(get('ServerConfig', own.metadata.namespace ?? '', name));
    imports.add('ServerConfig');
    if (name === 'mlserver') return raw('ServerConfig.MLSERVER');
    if (name === 'triton') return raw('ServerConfig.TRITON');
    return call('ServerConfig.fromName', str(name));
  };

  const emit = (d: Decl, expr: Expr, used: boolean) => {
    imports.add(d.kind);
    body.push(used ? statement(expr, d.variable) : statement(expr));
  };
  const referenced = new Set<Decl>([...decls.values()].filter((d) => !d.object));
  // Which declared objects something else refers to (those need a variable).
  for (const o of objects) {
    const ns = o.metadata.namespace ?? '';
    const s = o.spec as Record<string, unknown>;
    const mark = (kind: Kind, name: string | undefined) => {
      if (name) referenced.add(get(kind, ns, name));
    };
    if (o.kind === 'Model') {
      const m = s as unknown as ModelSpec;
      mark('Server', m.server);
      for (const t of [m.explainer, m.llm]) {
        mark('Model', t?.modelRef);
        mark('Pipeline', t?.pipelineRef);
      }
    }
    if (o.kind === 'Server') {
      const sc = serverConfigsByName.get((s as unknown as ServerSpec).serverConfig);
      if (sc) referenced.add(get('ServerConfig', sc.metadata.namespace ?? '', sc.metadata.name));
    }
    if (o.kind === 'Pipeline') {
      const p = s as unknown as PipelineSpec;
      referenced.add(get('Pipeline', ns, o.metadata.name));
      for (const st of p.steps) mark('Model', st.name);
      for (const r of [
        ...(p.input?.externalInputs ?? []),
        ...(p.input?.externalTriggers ?? []),
        ...Object.keys(p.input?.tensorMap ?? {}),
      ]) {
        const m = EXTERNAL_REF.exec(r);
        if (m) {
          mark('Pipeline', m[1]);
          if (m[2]) mark('Model', m[2]);
        }
      }
    }
    if (o.kind === 'Experiment') {
      const e = s as unknown as ExperimentSpec;
      const kind: Kind = e.resourceType === 'pipeline' ? 'Pipeline' : 'Model';
      for (const c of e.candidates) mark(kind, c.name);
      mark(kind, e.mirror?.name);
    }
  }

  const local = (kind: Kind) => ordered.filter((d) => d.kind === kind && d.object);

  const serverConfigs = local('ServerConfig');
  if (serverConfigs.length) body.push('');
  for (const d of serverConfigs) {
    const s = d.object?.spec as ServerConfigSpec;
    const props = obj([
      ...idName(d),
      ['podSpec', literal(s.podSpec)],
      ['volumeClaimTemplates', s.volumeClaimTemplates && literal(s.volumeClaimTemplates)],
    ]);
    emit(d, call('new ServerConfig', scope(d), str(d.id), props), referenced.has(d));
  }

  const servers = local('Server');
  if (servers.length) body.push('');
  for (const d of servers) {
    const s = d.object?.spec as ServerSpec;
    const retention = s.statefulSetPersistentVolumeClaimRetentionPolicy;
    const policy = (p: string | undefined) => {
      if (p === undefined) return undefined;
      imports.add('PvcRetentionPolicy');
      return raw(`PvcRetentionPolicy.${p.toUpperCase()}`);
    };
    const strategy = s.deploymentStrategy as
      | { type?: string; rollingUpdate?: { maxSurge?: unknown; maxUnavailable?: unknown } }
      | undefined;
    const entries: Array<[string, Expr | undefined]> = [...idName(d)];
    for (const key of Object.keys(s) as Array<keyof ServerSpec>) {
      switch (key) {
        case 'serverConfig':
          entries.push(['serverConfig', serverConfig(s.serverConfig)]);
          break;
        case 'capabilities':
        case 'extraCapabilities':
          entries.push([key, strings(s[key])]);
          break;
        case 'statefulSetPersistentVolumeClaimRetentionPolicy':
          entries.push([
            'pvcRetention',
            obj([
              ['whenDeleted', policy(retention?.whenDeleted)],
              ['whenScaled', policy(retention?.whenScaled)],
            ]),
          ]);
          break;
        case 'deploymentStrategy':
          entries.push([
            'deploymentStrategy',
            obj([
              ['type', str(strategy?.type ?? '')],
              [
                'maxSurge',
                strategy?.rollingUpdate?.maxSurge === undefined
                  ? undefined
                  : literal(strategy.rollingUpdate.maxSurge),
              ],
              [
                'maxUnavailable',
                strategy?.rollingUpdate?.maxUnavailable === undefined
                  ? undefined
                  : literal(strategy.rollingUpdate.maxUnavailable),
              ],
            ]),
          ]);
          break;
        case 'replicas':
        case 'minReplicas':
        case 'maxReplicas':
          entries.push([key, num(s[key])]);
          break;
        case 'disableAutoUpdate':
          entries.push([key, bool(s[key])]);
          break;
        default:
          entries.push([key, literal(s[key])]);
      }
    }
    emit(d, call('new Server', scope(d), str(d.id), obj(entries)), referenced.has(d));
  }

  // Models and pipelines refer to each other (steps, explainers): declare in dependency order.
  const pending = [...local('Model'), ...local('Pipeline')];
  const deps = (d: Decl): Decl[] => {
    const s = d.object?.spec as Record<string, unknown>;
    if (d.kind === 'Model') {
      const m = s as unknown as ModelSpec;
      const out: Decl[] = [];
      for (const t of [m.explainer, m.llm]) {
        if (t?.modelRef) out.push(get('Model', d.ns, t.modelRef));
        if (t?.pipelineRef) out.push(get('Pipeline', d.ns, t.pipelineRef));
      }
      return out;
    }
    const p = s as unknown as PipelineSpec;
    const out = p.steps.map((st) => get('Model', d.ns, st.name));
    for (const r of [...(p.input?.externalInputs ?? []), ...(p.input?.externalTriggers ?? [])]) {
      const m = EXTERNAL_REF.exec(r);
      if (m) out.push(get('Pipeline', d.ns, m[1]));
    }
    return out;
  };
  const sequence: Decl[] = [];
  const visiting = new Set<Decl>();
  const visit = (d: Decl) => {
    if (sequence.includes(d) || !d.object) return;
    if (visiting.has(d))
      throw new Error(
        `${d.kind} ${d.name} depends on itself through explainer or step references; import cannot order it`,
      );
    visiting.add(d);
    for (const x of deps(d)) visit(x);
    visiting.delete(d);
    sequence.push(d);
  };
  for (const d of pending) visit(d);
  if (sequence.length) body.push('');

  for (const d of sequence) {
    if (d.kind === 'Model') emitModel(d);
    else emitPipeline(d);
  }

  function emitModel(d: Decl): void {
    const s = d.object?.spec as ModelSpec;
    const entries: Array<[string, Expr | undefined]> = [...idName(d)];
    const target = (t: { modelRef?: string; pipelineRef?: string }) =>
      t.modelRef
        ? v(get('Model', d.ns, t.modelRef))
        : t.pipelineRef
          ? v(get('Pipeline', d.ns, t.pipelineRef))
          : undefined;
    for (const key of Object.keys(s) as Array<keyof ModelSpec>) {
      switch (key) {
        case 'secretName':
          entries.push(['secret', obj([['name', str(s.secretName as string)]])]);
          break;
        case 'memory':
          entries.push(['memory', str(String(s.memory))]);
          break;
        case 'server':
          entries.push(['server', v(get('Server', d.ns, s.server as string))]);
          break;
        case 'explainer':
          entries.push([
            'explainer',
            obj([
              ['type', s.explainer?.type === undefined ? undefined : str(s.explainer.type)],
              ['target', target(s.explainer ?? {})],
            ]),
          ]);
          break;
        case 'llm':
          entries.push(['llm', obj([['target', target(s.llm ?? {})]])]);
          break;
        case 'parameters':
          entries.push(['parameters', obj((s.parameters ?? []).map((p) => [p.name, str(p.value)]))]);
          break;
        case 'dataflow':
          entries.push(['cleanTopicsOnDelete', bool(s.dataflow?.cleanTopicsOnDelete)]);
          break;
        default:
          entries.push([key, literal(s[key])]);
      }
    }
    emit(d, call('new Model', scope(d), str(d.id), obj(entries)), referenced.has(d));
  }

  function emitPipeline(d: Decl): void {
    const s = d.object?.spec as PipelineSpec;
    const self = d.variable;
    const model = (name: string) => v(get('Model', d.ns, name));
    const stepRef = (r: string): Expr => {
      const m = STEP_REF.exec(r) as RegExpExecArray;
      const [, head, dir, tensor] = m;
      const owner =
        head === d.name && !s.steps.some((st) => st.name === head) ? self : get('Model', d.ns, head).variable;
      if (!dir) return owner === self ? call(`${self}.inputs`) : raw(owner);
      return call(`${owner}.${dir}`, ...(tensor === undefined ? [] : [str(tensor)]));
    };
    const extRef = (r: string): Expr => {
      const m = EXTERNAL_REF.exec(r) as RegExpExecArray;
      const [, p, step, dir, tensor] = m;
      const pv = get('Pipeline', d.ns, p).variable;
      const base = step ? `${pv}.step(${get('Model', d.ns, step).variable})` : pv;
      if (!dir) return raw(base);
      return call(`${base}.${dir}`, ...(tensor === undefined ? [] : [str(tensor)]));
    };
    const tensorMap = (map: Record<string, string> | undefined, render: (r: string) => Expr) =>
      map === undefined
        ? undefined
        : arr(
            Object.entries(map).map(([from, to]) =>
              obj([
                ['from', render(from)],
                ['to', str(to)],
              ]),
            ),
          );
    const input = s.input;
    const output = s.output;
    const props = obj([
      ...idName(d),
      [
        'input',
        input &&
          obj([
            ['externalInputs', arr((input.externalInputs ?? []).map(extRef))],
            ['externalTriggers', input.externalTriggers && arr(input.externalTriggers.map(extRef))],
            ['joinType', joinType(input.joinType)],
            ['triggersJoinType', joinType(input.triggersJoinType)],
            ['joinWindowMs', num(input.joinWindowMs)],
            ['tensorMap', tensorMap(input.tensorMap, extRef)],
          ]),
      ],
      [
        'output',
        output &&
          obj([
            ['steps', arr((output.steps ?? []).map(stepRef))],
            ['stepsJoin', joinType(output.stepsJoin)],
            ['joinWindowMs', num(output.joinWindowMs)],
            ['tensorMap', tensorMap(output.tensorMap, stepRef)],
          ]),
      ],
      ['allowCycles', bool(s.allowCycles)],
      ['maxStepRevisits', num(s.maxStepRevisits)],
      ['cleanTopicsOnDelete', bool(s.dataflow?.cleanTopicsOnDelete)],
    ]);
    const args = [scope(d), str(d.id), ...((props as { entries: unknown[] }).entries.length ? [props] : [])];
    emit(d, call('new Pipeline', ...args), true);
    for (const st of s.steps) body.push(statement(stepCall(st)));

    function stepCall(st: PipelineStepSpec): Expr {
      const options = obj([
        ['inputs', st.inputs && arr(st.inputs.map(stepRef))],
        ['triggers', st.triggers && arr(st.triggers.map(stepRef))],
        ['tensorMap', tensorMap(st.tensorMap, stepRef)],
        ['inputsJoinType', joinType(st.inputsJoinType)],
        ['triggersJoinType', joinType(st.triggersJoinType)],
        ['joinWindowMs', num(st.joinWindowMs)],
        ['batch', st.batch && literal(st.batch)],
      ]);
      const has = (options as { entries: unknown[] }).entries.length > 0;
      return call(`${self}.addStep`, model(st.name), ...(has ? [options] : []));
    }
  }

  const experiments = local('Experiment');
  if (experiments.length) body.push('');
  for (const d of experiments) {
    const s = d.object?.spec as ExperimentSpec;
    const kind: Kind = s.resourceType === 'pipeline' ? 'Pipeline' : 'Model';
    const t = (name: string) => v(get(kind, d.ns, name));
    const props = obj([
      ...idName(d),
      [
        'candidates',
        arr(
          s.candidates.map((c) =>
            obj([
              ['target', t(c.name)],
              ['weight', raw(String(c.weight))],
            ]),
          ),
        ),
      ],
      ['default', s.default === undefined ? undefined : t(s.default)],
      [
        'mirror',
        s.mirror &&
          obj([
            ['target', t(s.mirror.name)],
            ['percent', raw(String(s.mirror.percent))],
          ]),
      ],
    ]);
    emit(d, call('new Experiment', scope(d), str(d.id), props), false);
  }

  body.push('', 'app.synth();');
  const fromLib = [...imports].filter((i) => i !== 'Chart').sort();
  const head = [
    `// Imported from ${options.sources.join(', ')} by \`mlops import\`.`,
    ...(imports.has('Chart') ? ["import { Chart } from 'cdk8s';"] : []),
    importLine(fromLib, 'cdk8s-mlops'),
    '',
  ];
  return `${[...head, ...body].join('\n')}\n`;
}

function order(kind: Kind): number {
  return ['ServerConfig', 'Server', 'Model', 'Pipeline', 'Experiment'].indexOf(kind);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function importLine(names: string[], from: string): string {
  const one = `import { ${names.join(', ')} } from '${from}';`;
  if (one.length <= 110) return one;
  return `import {\n${names.map((n) => `  ${n},`).join('\n')}\n} from '${from}';`;
}
