import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkImport, ImportError } from '../../src/review/import/check.ts';
import { generateApp } from '../../src/review/import/codegen.ts';
import { arr, call, literal, obj, quote, raw, statement, str } from '../../src/review/import/printer.ts';
import { loadManifests, parseManifests } from '../../src/review/manifests.ts';
import { expectGolden, fixtures } from './golden.ts';

const dir = join(fixtures, 'import');

function refused(files: string[]): string[] {
  try {
    checkImport(loadManifests(files));
  } catch (err) {
    if (err instanceof ImportError) return err.problems.map((p) => p.replace(`${dir}/invalid/`, ''));
    throw err;
  }
  return [];
}

describe('printer', () => {
  it('keeps what fits on one line and breaks the rest like Biome', () => {
    expect(
      statement(call('new Model', raw('env'), str('a'), obj([['storageUri', str('s3://x')]])), 'a'),
    ).toBe("const a = new Model(env, 'a', { storageUri: 's3://x' });");
    const long = obj([['storageUri', str('s3://'.padEnd(100, 'x'))]]);
    expect(statement(call('new Model', raw('env'), str('a'), long))).toBe(
      `new Model(env, 'a', {\n  storageUri:\n    '${'s3://'.padEnd(100, 'x')}',\n});`,
    );
    const pairs = arr([
      obj([
        ['a', raw('1')],
        ['b', raw('2')],
      ]),
      obj([
        ['a', raw('3')],
        ['b', raw('4')],
      ]),
    ]);
    expect(statement(pairs)).toBe('[\n  { a: 1, b: 2 },\n  { a: 3, b: 4 },\n];');
  });

  it('quotes strings and keys with the fewest escapes', () => {
    expect(quote("it's")).toBe('"it\'s"');
    expect(quote('say "hi"')).toBe('\'say "hi"\'');
    expect(quote('a\\b\n')).toBe("'a\\\\b\\n'");
    expect(statement(literal({ 'nvidia.com/gpu': 1, plain: null }))).toBe(
      "{ 'nvidia.com/gpu': 1, plain: null };",
    );
  });
});

describe('import', () => {
  it('generates a readable app (golden)', () => {
    const objects = loadManifests([join(dir, 'serving.yaml')]).map((m) => m.object);
    expectGolden('import-serving.ts.txt', generateApp(objects, { sources: ['serving.yaml'] }));
  });

  it('turns references to objects outside the input into fromName', () => {
    const [p] = parseManifests(
      'apiVersion: mlops.seldon.io/v1alpha1\nkind: Pipeline\nmetadata: {name: p, namespace: n}\nspec: {steps: [{name: m}], input: {externalInputs: [q.step.m.outputs.t]}}\n',
      'p.yaml',
    );
    const app = generateApp([p.object], { sources: ['p.yaml'] });
    expect(app).toContain("const m = Model.fromName(n, 'm', 'm');");
    expect(app).toContain("const q = Pipeline.fromName(n, 'q', 'q');");
    expect(app).toContain("externalInputs: [q.step(m).outputs('t')]");
  });

  it('gives every chart and variable its own name', () => {
    const m = (ns: string) =>
      `apiVersion: mlops.seldon.io/v1alpha1\nkind: Model\nmetadata: {name: objects${ns ? `, namespace: ${ns}` : ''}}\nspec: {storageUri: s}\n`;
    const objects = [...parseManifests(m(''), 'a.yaml'), ...parseManifests(m('objects'), 'b.yaml')].map(
      (x) => x.object,
    );
    const app = generateApp(objects, { sources: ['a.yaml'] });
    expect(app).toContain("const objects = new Chart(app, 'objects', { disableResourceNameHashes: true });");
    expect(app).toContain(
      "const objectsEnv = new Environment(app, 'objects-chart', { namespace: 'objects' });",
    );
    expect(app).toContain("new Model(objects, 'objects', { storageUri: 's' });");
    expect(app).toContain("new Model(objectsEnv, 'objects', { storageUri: 's' });");
  });

  it('refuses bad names, unknown fields and broken references, naming file, object and field', () => {
    expect(refused([join(dir, 'invalid/names.yaml')])).toEqual([
      `names.yaml: Model fraud.v1: metadata.name: "fraud.v1" is not a DNS-1123 label (lower-case letters, digits and '-', no dots or underscores); Seldon rejects it — rename it`,
    ]);
    expect(refused([join(dir, 'invalid/fields.yaml')])).toEqual([
      'fields.yaml: Experiment fraud-ab: spec.mirrors: unknown field (not in the CRD); remove or rename it',
    ]);
    expect(refused([join(dir, 'invalid/references.yaml')])).toEqual([
      'references.yaml: Pipeline fraud-flow: spec.steps[1].inputs[0]: "featurs.outputs.vector" names no step of this pipeline (steps: features, fraud)',
      'references.yaml: Experiment fraud-ab: spec.default: "fraud-v3" is not one of the candidates (fraud, fraud-v2)',
    ]);
  });

  it('refuses kinds it does not import and a step named like its pipeline', () => {
    const cm = parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n', 'c.yaml');
    expect(() => checkImport(cm)).toThrow(/c.yaml: ConfigMap c: v1 ConfigMap is not a Seldon Core 2 kind/);
    const p = parseManifests(
      'apiVersion: mlops.seldon.io/v1alpha1\nkind: Pipeline\nmetadata: {name: iris}\nspec: {steps: [{name: iris}]}\n',
      'p.yaml',
    );
    expect(() => checkImport(p)).toThrow(/spec.steps\[0\].name: a step may not be named like its pipeline/);
  });
});
