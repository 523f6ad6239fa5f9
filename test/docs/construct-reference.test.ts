import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { InterfaceDoc } from '../../scripts/construct-reference/read.ts';
import {
  missingDefaults,
  missingDescriptions,
  renderDefault,
  renderPage,
} from '../../scripts/construct-reference/render.ts';
import { constructReference, type ReferenceResult } from '../../scripts/construct-reference.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

// Reading the sources with the compiler takes a few seconds: once for the whole file.
let result: ReferenceResult;
let interfaces: InterfaceDoc[];
beforeAll(() => {
  result = constructReference(root);
  interfaces = result.reference.interfaces;
}, 60_000);

describe('construct reference in docs/', () => {
  it('says what the JSDoc of the construct props says', () => {
    expect(result.pages.map((p) => p.path)).toEqual(['docs/constructs.md', 'docs/runtime-synthesis.md']);
    for (const page of result.pages) {
      expect(
        page.current,
        `${page.path} differs from the JSDoc in src/constructs: run \`npm run docs\``,
      ).toBe(page.generated);
    }
  });

  it('has a table for every props interface and the other types, and names nothing else', () => {
    expect(result.unmatched).toEqual([]);
  });

  it('covers the props interfaces, the interfaces they use and the ones they extend', () => {
    const names = interfaces.map((d) => d.name);
    expect(names).toEqual(
      expect.arrayContaining(['ModelProps', 'ServerProps', 'RuntimeProps', 'KafkaSettings', 'Candidate']),
    );
    expect(names).toEqual(
      expect.arrayContaining(['ServerAttributes', 'ServerConfigAttributes', 'StepBatch']),
    );
    expect(interfaces.find((d) => d.name === 'ServerPodSettings')?.baseOnly).toBe(true);
    expect(names.filter((n) => /^I[A-Z]/.test(n))).toEqual([]);
  });

  it('lists inherited props with their declared types', () => {
    const server = interfaces.find((d) => d.name === 'ServerProps');
    const gpu = server?.props.find((p) => p.name === 'gpu');
    expect(gpu).toMatchObject({
      type: 'number | ExtendedResource',
      optional: true,
      declaredIn: 'ServerPodSettings',
    });
    const step = interfaces.find((d) => d.name === 'PipelineStep');
    expect(step?.props.map((p) => p.name)).toEqual(expect.arrayContaining(['model', 'inputs', 'batch']));
  });

  it('states the other types the props name, and what the short ones stand for', () => {
    const types = new Map(result.reference.types.map((t) => [t.name, t.definition]));
    expect(types.get('Memory')).toBe('Size | string');
    expect(types.get('ExperimentTarget')).toBe('IModel | IPipeline');
    expect(types.get('JoinType')).toBe(
      "JoinType.INNER = 'inner', JoinType.OUTER = 'outer', JoinType.ANY = 'any'",
    );
    expect(types.get('AcceptablePolicyCheck')).toMatch(/^'pss-host-namespaces' \| /);
    expect(types.get('PodSpec')).toBe('');
    // Named only through a union alias (`ExternalReference`), not by a prop itself.
    expect(types.has('PipelineStepRef')).toBe(true);
  });
});

describe('JSDoc of the construct props', () => {
  it('gives every optional prop a @default', () => {
    const missing = missingDefaults(result.reference);
    expect(missing, `optional props without a @default tag:\n${missing.join('\n')}\n`).toEqual([]);
  });

  it('describes every prop and every other type', () => {
    const missing = missingDescriptions(result.reference);
    expect(missing, `props and types without a JSDoc description:\n${missing.join('\n')}\n`).toEqual([]);
  });

  it('names offenders by file, line, interface and prop', () => {
    const doc: InterfaceDoc = {
      name: 'FakeProps',
      file: 'src/constructs/fake.ts',
      description: '',
      baseOnly: false,
      props: [
        {
          name: 'size',
          type: 'number',
          optional: true,
          default: undefined,
          description: '',
          location: 'src/constructs/fake.ts:3',
          declaredIn: 'FakeProps',
        },
      ],
    };
    const type = { name: 'Size', definition: '', description: '', location: 'src/constructs/fake.ts:9' };
    expect(missingDefaults({ interfaces: [doc], types: [] })).toEqual([
      'src/constructs/fake.ts:3 FakeProps.size',
    ]);
    expect(missingDescriptions({ interfaces: [doc], types: [type] })).toEqual([
      'src/constructs/fake.ts:3 FakeProps.size',
      'src/constructs/fake.ts:9 Size',
    ]);
  });
});

describe('rendering', () => {
  it('writes values as code and prose as text', () => {
    expect(renderDefault("'seldon'")).toBe("`'seldon'`");
    expect(renderDefault('- the construct id')).toBe('the construct id');
    expect(renderDefault('false - an emptyDir')).toBe('`false` — an emptyDir');
  });

  it('escapes pipes in types and keeps the text around the markers', () => {
    const doc = interfaces.find((d) => d.name === 'DeploymentStrategy') as InterfaceDoc;
    const page = 'before\n<!-- props:DeploymentStrategy -->\nstale\n<!-- /props -->\nafter\n';
    const { text, tabled, unknown } = renderPage(page, { interfaces: [doc], types: [] });
    expect(text).toMatch(/^before\n<!-- props:DeploymentStrategy -->\n/);
    expect(text).toMatch(/\n<!-- \/props -->\nafter\n$/);
    expect(text).toContain("| `type` | `'Recreate' \\| 'RollingUpdate'` | required |");
    expect(text).not.toContain('stale');
    expect([tabled, unknown]).toEqual([['DeploymentStrategy'], []]);
    expect(
      renderPage('<!-- props:Nope -->\n<!-- /props -->', { interfaces: [doc], types: [] }).unknown,
    ).toEqual(['Nope']);
  });
});

describe('the generator is a development tool', () => {
  it('is not imported by the library', () => {
    const sources = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.ts'),
    );
    const importsCompiler = /(?:from\s*|import\s*\(\s*|require\s*\(\s*)['"]typescript['"]/;
    expect(sources.length).toBeGreaterThan(50);
    expect(sources.filter((f) => importsCompiler.test(readFileSync(join(root, 'src', f), 'utf8')))).toEqual(
      [],
    );
  });
});
