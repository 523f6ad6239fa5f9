import type { App } from 'cdk8s';
import { formatFindings, type ValidationFinding } from '../constructs/validation.ts';
import { customResourceDefinitions } from '../spec/crd-schemas.ts';
import { isMlopsApiVersion } from '../spec/objects.ts';
import type { KubeObject } from '../spec/types.ts';
import { checkOutput, toValidationFinding } from './check/check-output.ts';
import { foundationFile, isCustomResourceDefinition, type Manifest, objectFileName } from './layout.ts';
import type { SynthFiles } from './output.ts';
import { type RenderedObject, renderObjects } from './render.ts';
import { toYaml } from './serialize.ts';
import { findProblems } from './validate.ts';

/**
 * What a synthesis is for:
 * - `runtime`: everything the app declares, the runtime's workloads included, plus our CRDs;
 * - `seldon`: only the `mlops.seldon.io` custom resources, for a cluster that already runs
 *   Seldon Core 2 (which brings its own CRDs and controllers).
 */
export type SynthTarget = 'runtime' | 'seldon';
export const SYNTH_TARGETS: readonly SynthTarget[] = ['runtime', 'seldon'];

export interface SynthOptions {
  /** @default 'runtime' */
  target?: SynthTarget;
}

/** Synthesis found problems in the app; nothing was produced. */
export class SynthError extends Error {
  constructor(readonly findings: ValidationFinding[]) {
    super(formatFindings(findings));
    this.name = 'SynthError';
  }
}

/** The objects of an app for a target, rendered and checked; throws SynthError listing every problem. */
export function synthesizeObjects(app: App, options: SynthOptions = {}): RenderedObject[] {
  const findings = findProblems(app);
  if (findings.length > 0) throw new SynthError(findings);
  const rendered = renderObjects(app);
  if (rendered.findings.length > 0) throw new SynthError(rendered.findings);
  const target = options.target ?? 'runtime';
  if (target === 'seldon') return rendered.objects.filter((o) => isMlopsApiVersion(o.manifest.apiVersion));
  return [...rendered.objects, ...missingCrds(rendered.objects)];
}

/** The files of an app's output folder for a target, in file-name order. */
export function synthesizeApp(app: App, options: SynthOptions = {}): SynthFiles {
  const objects = synthesizeObjects(app, options);
  // CRDs and Namespaces: one shared file per kind, objects keyed by name; the rest: a file each.
  const shared = new Map<string, Map<string, RenderedObject>>();
  const byFile = new Map<string, RenderedObject>();
  const clashes: ValidationFinding[] = [];
  for (const object of objects) {
    const file = foundationFile(object.manifest);
    let taken = byFile;
    let key = objectFileName(object.manifest);
    if (file) {
      taken = shared.get(file) ?? new Map();
      shared.set(file, taken);
      key = object.manifest.metadata.name;
    }
    const other = taken.get(key);
    if (other) clashes.push(clash(object, other));
    else taken.set(key, object);
  }
  if (clashes.length > 0) throw new SynthError(clashes);
  const refused = outputFindings(shared, byFile);
  if (refused.length > 0) throw new SynthError(refused);

  const files = new Map<string, string>();
  for (const [file, members] of [...shared].sort(([a], [b]) => compare(a, b))) {
    const sorted = [...members.keys()].sort(compare).map((k) => (members.get(k) as RenderedObject).manifest);
    files.set(file, toYaml(...sorted));
  }
  for (const name of [...byFile.keys()].sort(compare))
    files.set(name, toYaml((byFile.get(name) as RenderedObject).manifest));
  return files;
}

/** What `mlops validate` would report on the output folder, as synthesis findings. */
function outputFindings(
  shared: Map<string, Map<string, RenderedObject>>,
  byFile: Map<string, RenderedObject>,
): ValidationFinding[] {
  const written = [
    ...[...shared].flatMap(([file, members]) =>
      [...members.values()].map((o) => ({ file, object: o.manifest as KubeObject, path: o.path })),
    ),
    ...[...byFile].map(([file, o]) => ({ file, object: o.manifest as KubeObject, path: o.path })),
  ];
  // A finding names its object as `Kind namespace/name` in its file.
  const key = (file: string, o: KubeObject) =>
    `${file} ${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
  const pathOf = new Map(written.map((w) => [key(w.file, w.object), w.path]));
  return checkOutput(written).map((f) =>
    toValidationFinding(f, pathOf.get(`${f.file} ${f.object}`) ?? f.file),
  );
}

/** Our CRDs, except any the app declares itself (an app's own definition wins). */
function missingCrds(objects: RenderedObject[]): RenderedObject[] {
  const declared = new Set(
    objects.filter((o) => isCustomResourceDefinition(o.manifest)).map((o) => o.manifest.metadata.name),
  );
  return customResourceDefinitions()
    .map((crd) => ({ path: '(cdk8s-mlops CRDs)', manifest: crd as Manifest }))
    .filter((o) => !declared.has(o.manifest.metadata.name));
}

function clash(object: RenderedObject, other: RenderedObject): ValidationFinding {
  const m = object.manifest;
  const where = m.metadata.namespace ? ` in namespace ${m.metadata.namespace}` : '';
  const same = other.manifest.metadata.name === m.metadata.name;
  return {
    path: object.path,
    field: 'metadata.name',
    value: m.metadata.name,
    message: same
      ? `${m.kind} ${m.metadata.name}${where} is also declared at ${other.path}`
      : `${m.kind} ${m.metadata.name}${where} would be written to the same file as ${other.manifest.metadata.name} (${other.path})`,
    fix: 'give one of them a different name (or namespace)',
  };
}

// Plain code-unit order: the same on every machine and locale.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
