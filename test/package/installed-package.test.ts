// The package as a user gets it: packed, installed into a fresh project outside this repository
// with its peers from the registry, type-checked strictly (no skipLibCheck), synthesized and validated
// through the installed `mlops` bin.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { npmInstall, packInto, pkg, run as runIn } from './packed.ts';

const project = mkdtempSync(join(tmpdir(), 'mlops-package-'));

const APP = `import { Size } from 'cdk8s';
import { Secret } from 'cdk8s-plus-28';
import { Environment, Experiment, MlopsApp, Model, Pipeline, Server, ServerConfig } from 'cdk8s-mlops';

const app = new MlopsApp();
const prod = new Environment(app, 'prod', { namespace: 'ml-prod' });
const credentials = Secret.fromSecretName(prod, 'storage', 'model-storage');
const mlserver = new Server(prod, 'mlserver', { serverConfig: ServerConfig.MLSERVER, memory: Size.gibibytes(4) });
const model = (name: string) =>
  new Model(prod, name, { storageUri: \`gs://models/\${name}\`, secret: credentials, requirements: ['sklearn'], memory: Size.mebibytes(100), server: mlserver });
const iris = model('iris');
const scorer = model('scorer');
const score = new Pipeline(prod, 'score', { output: { steps: [scorer] } });
score.addStep(iris, { inputs: [score.inputs('features')] });
score.addStep(scorer, { inputs: [iris.outputs('probs')] });
new Experiment(prod, 'iris-ab', { candidates: [{ target: iris, weight: 90 }, { target: model('iris-v2'), weight: 10 }], default: iris });
app.synth();
`;

const run = (command: string, args: string[]) => runIn(command, args, project);

beforeAll(() => {
  const tarball = packInto(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'user-app', private: true, type: 'module' }),
  );
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        types: [],
      },
      include: ['apps'],
    }),
  );
  mkdirSync(join(project, 'apps'));
  writeFileSync(join(project, 'apps', 'prod.ts'), APP);
  const peers = Object.entries(pkg.peerDependencies).map(([n, v]) => `${n}@${v}`);
  npmInstall(project, [`./${tarball}`, `typescript@${pkg.devDependencies.typescript}`, ...peers]);
}, 600_000);

afterAll(() => rmSync(project, { recursive: true, force: true }));

it('type-checks a strict NodeNext app against the installed declarations, without skipLibCheck', () => {
  const tsc = run('npx', ['tsc', '-p', '.']);
  expect(tsc.output).toBe('');
  expect(tsc.status).toBe(0);
}, 120_000);

it('synthesizes the app with the installed mlops, and validate finds nothing', () => {
  const synth = run('npx', ['mlops', 'synth']);
  expect(synth.status, synth.output).toBe(0);
  const validate = run('npx', ['mlops', 'validate', 'dist']);
  expect(validate.output).toMatch(/no findings/);
  expect(validate.status).toBe(0);
}, 120_000);
