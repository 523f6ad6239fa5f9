// The files `mlops init` writes, as data: each a function of the few choices init takes.

export interface Versions {
  /** This package's version: the scaffold depends on exactly the CLI that wrote it. */
  mlops: string;
  /** Exact versions of the peers (cdk8s, constructs, cdk8s-plus-28) and the tools. */
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

/** Versions of the tools the scaffold adds, pinned so every clone gets the same ones. */
export const TOOL_VERSIONS: Record<string, string> = {
  typescript: '5.9.3',
  // the official cdk8s CLI, so `npx cdk8s synth` works with the validation plugin
  'cdk8s-cli': '2.207.60',
};

/** Marks the pull-request comment the workflow updates instead of adding one per push. */
export const COMMENT_MARKER = '<!-- mlops-diff -->';

/** Where cdk8s.yaml finds the plugin: cdk8s loads local plugins by path, not by package name. */
export const PLUGIN_PATH = './node_modules/cdk8s-mlops/lib/review/plugin.js';

export function packageJson(name: string, v: Versions): string {
  const pkg = {
    name,
    private: true,
    type: 'module',
    scripts: {
      synth: 'mlops synth',
      validate: 'mlops validate dist',
      diff: 'mlops diff --base origin/main',
      typecheck: 'tsc --noEmit',
    },
    dependencies: { 'cdk8s-mlops': v.mlops, ...v.dependencies },
    devDependencies: v.devDependencies,
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

export function tsconfig(): string {
  const config = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noEmit: true,
      // apps run as TypeScript without a build step, so they import each other with `.ts`
      allowImportingTsExtensions: true,
      verbatimModuleSyntax: true,
      noFallthroughCasesInSwitch: true,
      noImplicitOverride: true,
      types: [],
    },
    include: ['apps'],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

export function cdk8sYaml(version: string): string {
  return `# \`cdk8s synth\` runs \`mlops synth\` (every apps/<app>.ts to dist/<app>/), then checks the
# output with the mlops validation plugin: the same checks as \`npx mlops validate dist\`.
language: typescript
app: npx mlops synth
output: dist
validations:
  - package: ${PLUGIN_PATH}
    version: ${version}
    class: MlopsValidation
`;
}

export function gitignore(): string {
  return `node_modules/
*.tgz
# dist/ is committed: CI checks it is up to date and reviews its diff
`;
}

/** The serving every app declares: a Server, two Models, a Pipeline and an Experiment. */
function servingBody(indent: string): string {
  return `const credentials = Secret.fromSecretName(env, 'storage', 'model-storage');
const mlserver = new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER, memory: Size.gibibytes(4) });
const model = (name: string) =>
  new Model(env, name, {
    storageUri: \`gs://models/\${name}\`,
    secret: credentials,
    requirements: ['sklearn'],
    memory: Size.mebibytes(100),
    server: mlserver,
  });
const iris = model('iris');
const scorer = model('scorer');
const score = new Pipeline(env, 'score', { output: { steps: [scorer] } });
score.addStep(iris, { inputs: [score.inputs('features')] });
score.addStep(scorer, { inputs: [iris.outputs('probs')] });
new Experiment(env, 'iris-ab', {
  candidates: [
    { target: iris, weight: 90 },
    { target: model('iris-v2'), weight: 10 },
  ],
  default: iris,
});`
    .split('\n')
    .map((line) => (line ? indent + line : line))
    .join('\n');
}

/** apps/main.ts: one app, written to dist/main/. */
export function mainApp(): string {
  return `import { Size } from 'cdk8s';
import { Secret } from 'cdk8s-plus-28';
import { Environment, Experiment, MlopsApp, Model, Pipeline, Server, ServerConfig } from 'cdk8s-mlops';

const app = new MlopsApp();
const env = new Environment(app, 'main', { namespace: 'ml-serving' });

${servingBody('')}

app.synth();
`;
}

/** apps/_serving.ts: what every environment declares (files starting with _ are not apps). */
export function sharedServing(): string {
  return `import { Size } from 'cdk8s';
import { Secret } from 'cdk8s-plus-28';
import { type Environment, Experiment, Model, Pipeline, Server, ServerConfig } from 'cdk8s-mlops';

/** The serving of one environment; pass per-environment differences as parameters. */
export function declareServing(env: Environment): void {
${servingBody('  ')}
}
`;
}

/** apps/<env>.ts: one app per environment, written to dist/<env>/. */
export function environmentApp(name: string): string {
  return `import { Environment, MlopsApp } from 'cdk8s-mlops';
import { declareServing } from './_serving.ts';

const app = new MlopsApp();
declareServing(new Environment(app, '${name}', { namespace: 'ml-${name}' }));
app.synth();
`;
}

export function readme(name: string, apps: string[]): string {
  const folders = apps.map((a) => `- \`apps/${a}.ts\` → \`dist/${a}/\``).join('\n');
  return `# ${name}

## Model serving as code

Seldon Core 2 resources written in TypeScript with [cdk8s-mlops](https://www.npmjs.com/package/cdk8s-mlops).

${folders}

\`\`\`sh
npm install
npx mlops synth            # write dist/ (commit it)
npx mlops validate dist    # schemas, references, workload policy
npx mlops diff --base origin/main --format markdown
CDK8S_CHECK_UPGRADE=false npx cdk8s synth   # the same synthesis, checked by the mlops validation plugin
\`\`\`

Every pull request runs \`.github/workflows/mlops.yml\`: it checks that \`dist/\` is up to date,
validates it, and posts the semantic diff as one comment that each push updates.
Point one Argo CD Application (or one Flux Kustomization) at each \`dist/<app>/\` folder.
`;
}

export function workflow(): string {
  return `name: mlops
on:
  pull_request:
  push:
    branches: [main]
permissions:
  contents: read
  pull-requests: write
jobs:
  review:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - uses: actions/setup-node@v4
        with:
          node-version: 20
          cache: npm
      - run: npm ci
      - name: Synthesized output is committed and up to date
        run: npx mlops synth --check
      - name: Validate
        run: npx mlops validate dist
      - name: Semantic diff
        if: github.event_name == 'pull_request'
        run: |
          set +e
          npx mlops diff --base "origin/\${{ github.base_ref }}" --format markdown > diff.md
          code=$?
          set -e
          [ "$code" -le 1 ] || exit "$code"   # 1 = differences, fine; 2 = error
          cat diff.md >> "$GITHUB_STEP_SUMMARY"
      - name: Post the diff as one pull-request comment
        if: github.event_name == 'pull_request'
        uses: actions/github-script@v7
        with:
          script: |
            const fs = require('node:fs');
            const marker = '${COMMENT_MARKER}';
            const body = \`\${marker}\\n\${fs.readFileSync('diff.md', 'utf8')}\`;
            const { owner, repo } = context.repo;
            const issue_number = context.issue.number;
            const comments = await github.paginate(github.rest.issues.listComments, { owner, repo, issue_number });
            const previous = comments.find((c) => c.body?.startsWith(marker));
            if (previous) {
              await github.rest.issues.updateComment({ owner, repo, comment_id: previous.id, body });
            } else {
              await github.rest.issues.createComment({ owner, repo, issue_number, body });
            }
`;
}
