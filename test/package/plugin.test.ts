// The cdk8s validation plugin in process, with a context shaped as cdk8s-cli builds it: every
// finding a violation with its object, path and fix; the report fails when there are any.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { type Cdk8sViolation, MlopsValidation } from '../../src/review/plugin.ts';

const MODEL = (name: string, extra = '') => `apiVersion: mlops.seldon.io/v1alpha1
kind: Model
metadata:
  name: ${name}
  namespace: ml
spec:
  storageUri: gs://models/${name}
  requirements: [sklearn]
${extra}`;

async function validate(files: Record<string, string>, props = {}) {
  const root = mkdtempSync(join(tmpdir(), 'mlops-plugin-'));
  const paths = Object.entries(files).map(([file, text]) => {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), text);
    return join(root, file);
  });
  const violations: Cdk8sViolation[] = [];
  let status: string | undefined;
  const context = {
    manifests: paths,
    report: {
      addViolation: (v: Cdk8sViolation) => violations.push(v),
      submit: (s: string) => {
        status = s;
      },
    },
  };
  await new MlopsValidation(props).validate(context);
  return { root, violations, status };
}

it('passes valid output and reports each finding with its object, path and fix', async () => {
  const ok = await validate({ 'dev/model.yaml': MODEL('iris') });
  expect(ok).toMatchObject({ violations: [], status: 'success' });

  const bad = await validate({ 'dev/model.yaml': MODEL('iris', '  replicaz: 2\n') });
  expect(bad.status).toBe('failure');
  expect(bad.violations).toEqual([
    {
      ruleName: 'schema/unknown-field',
      recommendation: expect.stringMatching(/^spec\.replicaz: /),
      fix: 'correct or remove the field in the app that writes this object, then synthesize again',
      violatingResources: [
        {
          resourceName: 'Model ml/iris',
          locations: ['spec.replicaz'],
          manifestPath: join(bad.root, 'dev/model.yaml'),
        },
      ],
    },
  ]);
});

it('reads app folders as separate sets, as mlops validate dist does', async () => {
  const apart = await validate({ 'dev/model.yaml': MODEL('iris'), 'prod/model.yaml': MODEL('iris') });
  expect(apart.violations).toEqual([]);
  const together = await validate({ 'dev/a.yaml': MODEL('iris'), 'dev/b.yaml': MODEL('iris') });
  expect(together.violations.map((v) => [v.ruleName, v.fix])).toEqual([
    ['schema/duplicate', 'give one of the objects another name, or remove one of them'],
  ]);
});

it('gives the fix a policy message states', async () => {
  const pod = `apiVersion: v1
kind: Pod
metadata:
  name: shell
  namespace: ml
spec:
  containers:
    - name: shell
      image: busybox:1.36
`;
  const { violations } = await validate({ 'dev/pod.yaml': pod });
  const nonRoot = violations.find((v) => v.ruleName === 'policy/pss-run-as-non-root');
  expect(nonRoot?.fix).toBe('set runAsNonRoot: true (pod or container securityContext)');
  expect(nonRoot?.violatingResources[0].locations).toEqual([
    'spec.containers[0].securityContext.runAsNonRoot',
  ]);
});
