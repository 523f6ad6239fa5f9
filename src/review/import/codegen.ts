// Turns checked Seldon Core 2 objects into a readable TypeScript app built from our constructs.
// Each construct's inverse (spec → props) lives beside it; this module only orders the
// declarations and prints them, resolving references through the reference index.
import { experimentPropsFromSpec } from '../../constructs/experiment-import.ts';
import { modelPropsFromSpec } from '../../constructs/model-import.ts';
import { pipelinePropsFromSpec } from '../../constructs/pipeline-import.ts';
import { type Props, type PropValue, props } from '../../constructs/prop-values.ts';
import { serverConfigPropsFromSpec, serverPropsFromSpec } from '../../constructs/server-import.ts';
import { indexReferences, type ReferenceIndex, type ReferenceRole } from '../../spec/reference-index.ts';
import type {
  ExperimentSpec,
  KubeObject,
  ModelSpec,
  PipelineSpec,
  ServerConfigSpec,
  ServerSpec,
} from '../../spec/types.ts';
import { importedPolicyProps } from './accepted-policy.ts';
import { byPlace, type Decl, Declarations } from './declarations.ts';
import { arr, call, type Expr, flat, literal, type ObjExpr, obj, raw, statement, str } from './printer.ts';

export interface GenerateOptions {
  /** Shown in the header comment (file names, not paths). */
  sources: string[];
}

export function generateApp(objects: KubeObject[], options: GenerateOptions): string {
  const index = indexReferences(objects);
  const decls = new Declarations(objects, index);
  const code = new Code(decls);
  code.scopes();
  code.externals();
  const local = decls.ordered().filter((d) => d.object);
  const referenced = referencedDecls(objects, index, decls);
  const section = (list: Decl[]) => {
    if (list.length) code.body.push('');
    for (const d of list) code.declare(d, referenced.has(d));
  };
  section(local.filter((d) => d.kind === 'ServerConfig'));
  section(local.filter((d) => d.kind === 'Server'));
  section(
    dependencyOrder(
      local.filter((d) => d.kind === 'Model' || d.kind === 'Pipeline'),
      index,
      decls,
    ),
  );
  section(local.filter((d) => d.kind === 'Experiment'));
  return code.file(options.sources);
}

/** Declarations something else refers to: those need a variable. */
function referencedDecls(objects: KubeObject[], index: ReferenceIndex, decls: Declarations): Set<Decl> {
  const referenced = new Set<Decl>(decls.external);
  for (const o of objects) {
    const ns = o.metadata.namespace ?? '';
    // A pipeline's variable is needed for its own `addStep` calls.
    if (o.kind === 'Pipeline') referenced.add(decls.get('Pipeline', ns, o.metadata.name));
    for (const r of index.get(o) ?? []) {
      const d = r.kind === 'ServerConfig' ? decls.serverConfig(r.name) : decls.get(r.kind, ns, r.name);
      if (d) referenced.add(d);
    }
  }
  return referenced;
}

/** What must be declared before an object: its explainer's target, a pipeline's steps and sources. */
const DEPENDENCY: ReadonlySet<ReferenceRole> = new Set([
  'explainer',
  'llm',
  'step',
  'external-input',
  'external-trigger',
]);

/** Models and pipelines refer to each other (steps, explainers): declare in dependency order. */
function dependencyOrder(pending: Decl[], index: ReferenceIndex, decls: Declarations): Decl[] {
  const deps = (d: Decl): Decl[] =>
    (index.get(d.object as KubeObject) ?? [])
      // A step of another pipeline (`p.step.s`) is reached through that pipeline.
      .filter((r) => DEPENDENCY.has(r.role) && !(r.kind === 'Model' && r.role.startsWith('external-')))
      .map((r) => decls.get(r.kind, d.ns, r.name));
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
  return sequence;
}

/** The generated file: imports it needs, and statements. */
class Code {
  readonly body: string[] = ['const app = new MlopsApp();'];
  private readonly imports = new Set<string>(['MlopsApp']);

  constructor(private readonly decls: Declarations) {}

  /** One Environment per namespace, one plain Chart for objects without a namespace. */
  scopes(): void {
    for (const [ns, scope] of [...this.decls.scopes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (ns) {
        this.imports.add('Environment');
        const props = obj([['namespace', str(ns)]]);
        this.body.push(statement(call('new Environment', raw('app'), str(scope.id), props), scope.variable));
      } else {
        this.imports.add('Chart');
        const props = obj([['disableResourceNameHashes', raw('true')]]);
        this.body.push(
          '// Objects without a namespace: a plain chart keeps them namespace-less.',
          statement(call('new Chart', raw('app'), str(scope.id), props), scope.variable),
        );
      }
    }
  }

  /** References to objects that are not part of the input. */
  externals(): void {
    const externals = this.decls.external.filter((d) => d.kind !== 'ServerConfig').sort(byPlace);
    if (!externals.length) return;
    this.body.push('', '// Declared elsewhere: referenced here, not part of the imported files.');
    for (const d of externals) {
      this.imports.add(d.kind);
      this.body.push(
        statement(call(`${d.kind}.fromName`, this.scope(d), str(d.id), str(d.name)), d.variable),
      );
    }
  }

  /** `new Kind(scope, id, props)` for an imported object (and a pipeline's `addStep` calls). */
  declare(d: Decl, used: boolean): void {
    this.imports.add(d.kind);
    const pipeline = d.kind === 'Pipeline' ? pipelinePropsFromSpec(d.name, spec(d)) : undefined;
    const props = this.props(d, pipeline?.props ?? propsFromSpec(d));
    // A pipeline without props is written `new Pipeline(scope, id)`; the others always take props.
    const withProps = !pipeline || props.entries.length > 0;
    const args = [this.scope(d), str(d.id), ...(withProps ? [props] : [])];
    this.body.push(statement(call(`new ${d.kind}`, ...args), used ? d.variable : undefined));
    for (const st of pipeline?.steps ?? []) {
      const options = st.options.entries.length ? [this.expr(d, st.options)] : [];
      this.body.push(statement(call(`${d.variable}.addStep`, this.expr(d, st.model), ...options)));
    }
  }

  file(sources: string[]): string {
    const fromLib = [...this.imports].filter((i) => i !== 'Chart').sort();
    const head = [
      `// Imported from ${sources.join(', ')} by \`mlops import\`.`,
      ...(this.imports.has('Chart') ? ["import { Chart } from 'cdk8s';"] : []),
      importLine(fromLib, 'cdk8s-mlops'),
      '',
    ];
    return `${[...head, ...this.body, '', 'app.synth();'].join('\n')}\n`;
  }

  private scope(d: Decl): Expr {
    return raw(this.decls.scopes.get(d.ns)?.variable as string);
  }

  /** Props with `name` first when the construct id is not the name. */
  private props(d: Decl, props: Props): ObjExpr {
    const name: Array<[string, Expr]> = d.id === d.name ? [] : [['name', str(d.name)]];
    return obj([...name, ...props.entries.map(([k, v]): [string, Expr] => [k, this.expr(d, v)])]);
  }

  /** A prop value as code; references resolve from the namespace of `d`. */
  private expr(d: Decl, v: PropValue): Expr {
    switch (v.t) {
      case 'literal':
        return literal(v.value);
      case 'props':
        return obj(v.entries.map(([k, x]) => [k, this.expr(d, x)]));
      case 'list':
        return arr(v.items.map((x) => this.expr(d, x)));
      case 'ref': {
        const target =
          v.kind === 'ServerConfig' ? this.decls.serverConfig(v.name) : this.decls.get(v.kind, d.ns, v.name);
        if (target) return raw(target.variable);
        return this.expr(d, v.otherwise ?? { t: 'literal', value: v.name });
      }
      case 'static':
        this.imports.add(v.type);
        if (!v.args) return raw(`${v.type}.${v.member}`);
        return call(`${v.type}.${v.member}`, ...v.args.map((x) => this.expr(d, x)));
      case 'method':
        return call(`${flat(this.expr(d, v.target))}.${v.method}`, ...v.args.map((x) => this.expr(d, x)));
    }
  }
}

const spec = <T>(d: Decl): T => (d.object as KubeObject).spec as T;

function propsFromSpec(d: Decl): Props {
  switch (d.kind) {
    case 'ServerConfig': {
      const written = serverConfigPropsFromSpec(spec<ServerConfigSpec>(d));
      return props([...written.entries, ...importedPolicyProps(d.object as KubeObject)]);
    }
    case 'Server':
      return serverPropsFromSpec(spec<ServerSpec>(d));
    case 'Model':
      return modelPropsFromSpec(spec<ModelSpec>(d));
    case 'Pipeline':
      return pipelinePropsFromSpec(d.name, spec<PipelineSpec>(d)).props;
    case 'Experiment':
      return experimentPropsFromSpec(spec<ExperimentSpec>(d));
  }
}

function importLine(names: string[], from: string): string {
  const one = `import { ${names.join(', ')} } from '${from}';`;
  if (one.length <= 110) return one;
  return `import {\n${names.map((n) => `  ${n},`).join('\n')}\n} from '${from}';`;
}
