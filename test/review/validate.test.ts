import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifests, parseManifests } from '../../src/review/manifests.ts';
import { renderFindingsJson, renderFindingsText } from '../../src/review/validate/findings.ts';
import { validateManifests } from '../../src/review/validate/validate.ts';
import { expectGolden, fixtures } from './golden.ts';

const clean = loadManifests([join(fixtures, 'validate/clean')]);
const bad = loadManifests([join(fixtures, 'validate/bad')]);
const checks = (text: string, opts = {}) =>
  validateManifests(parseManifests(text, 'x.yaml'), opts).map((f) => `${f.path} ${f.check}`);

// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited in place by each case
type Loose = Record<string, any>;

/** A compliant Deployment; `patch` edits its container or pod spec. */
function deployment(patch: (pod: Loose, c: Loose) => void): string {
  const c: Loose = {
    name: 'app',
    image: 'registry.example.com/app:1.0.0',
    resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '64Mi' } },
    readinessProbe: { tcpSocket: { port: 80 } },
    livenessProbe: { tcpSocket: { port: 80 } },
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
  };
  const pod: Loose = {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [c],
  };
  patch(pod, c);
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd', namespace: 'n' },
    spec: {
      selector: { matchLabels: { a: 'b' } },
      template: { metadata: { labels: { a: 'b' } }, spec: pod },
    },
  });
}

describe('validateManifests', () => {
  it('finds nothing in a compliant set', () => {
    expect(validateManifests(clean)).toEqual([]);
  });

  it('reports every problem of the bad set (golden)', () => {
    const findings = validateManifests(bad);
    expectGolden('validate.txt', renderFindingsText(findings, bad.length));
    expectGolden('validate.json', renderFindingsJson(findings, bad.length));
  });

  it('a compliant workload passes, and each policy rule catches its own breach', () => {
    expect(checks(deployment(() => {}))).toEqual([]);
    const c0 = 'spec.template.spec.containers[0]';
    expect(checks(deployment((_, c) => (c.image = 'app')))).toEqual([`${c0}.image image-tag`]);
    expect(checks(deployment((_, c) => (c.image = 'r.io:5000/app:latest')))).toEqual([
      `${c0}.image image-tag`,
    ]);
    expect(checks(deployment((_, c) => (c.image = 'r.io:5000/app')))).toEqual([`${c0}.image image-tag`]);
    expect(checks(deployment((_, c) => (c.image = 'app@sha256:abc')))).toEqual([]);
    expect(checks(deployment((_, c) => delete c.resources.limits))).toEqual([`${c0}.resources resources`]);
    expect(checks(deployment((_, c) => delete c.livenessProbe))).toEqual([`${c0}.livenessProbe probes`]);
    expect(checks(deployment((p) => delete p.securityContext.seccompProfile))).toEqual([
      `${c0}.securityContext.seccompProfile pss-seccomp`,
    ]);
    expect(
      checks(
        deployment((p, c) => {
          delete p.securityContext.seccompProfile;
          c.securityContext.seccompProfile = { type: 'Localhost', localhostProfile: 'p.json' };
        }),
      ),
    ).toEqual([]);
    expect(checks(deployment((p) => (p.hostPID = true)))).toEqual([
      'spec.template.spec.hostPID pss-host-namespaces',
    ]);
    expect(checks(deployment((_, c) => (c.securityContext.capabilities.add = ['NET_BIND_SERVICE'])))).toEqual(
      [],
    );
    expect(
      checks(
        deployment(
          (_, c) => (c.env = [{ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }]),
        ),
      ),
    ).toEqual([]);
  });

  it('does not expect probes from jobs', () => {
    const job = JSON.parse(
      deployment((_, c) => {
        delete c.livenessProbe;
        delete c.readinessProbe;
      }),
    );
    job.apiVersion = 'batch/v1';
    job.kind = 'Job';
    delete job.spec.selector;
    job.spec.template.spec.restartPolicy = 'Never';
    expect(checks(JSON.stringify(job))).toEqual([]);
  });

  it('checks built-in kinds strictly against the Kubernetes OpenAPI models', () => {
    const cm =
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {n: 1}}\ndata: {a: b}\ndatas: {}\n';
    expect(checks(cm)).toEqual(['datas unknown-field', 'metadata.labels.n wrong-type']);
    const hpa =
      'apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec: {maxReplicas: 3}\n';
    expect(checks(hpa)).toEqual(['spec.scaleTargetRef missing-field']);
  });

  it('checks mlops kinds against our CRDs, strictly', () => {
    const m =
      'apiVersion: mlops.seldon.io/v1alpha1\nkind: Model\nmetadata: {name: m}\nspec: {storageUri: s, memory: lots, requirement: [x]}\n';
    expect(checks(m)).toEqual(['spec.memory crd', 'spec.requirement unknown-field']);
    const unknown = 'apiVersion: mlops.seldon.io/v1alpha1\nkind: Modle\nmetadata: {name: m}\nspec: {}\n';
    expect(checks(unknown)).toEqual(['apiVersion unknown-kind']);
  });

  it('accepts references declared elsewhere through --external or the annotation', () => {
    const p = (ann = '') =>
      `apiVersion: mlops.seldon.io/v1alpha1\nkind: Pipeline\nmetadata: {name: p, namespace: n${ann}}\nspec: {steps: [{name: shared}]}\n`;
    expect(checks(p())).toEqual(['spec.steps[0].name missing-model']);
    expect(checks(p(), { external: ['Model/shared'] })).toEqual([]);
    expect(checks(p(), { external: ['Model/n/shared'] })).toEqual([]);
    expect(checks(p(), { external: ['Model/other/shared'] })).toEqual(['spec.steps[0].name missing-model']);
    expect(checks(p(', annotations: {review.cdk8s-mlops.io/external: "Model/shared"}'))).toEqual([]);
  });

  it('checks each app folder on its own: references resolve within the app, no cross-app duplicates', () => {
    const model =
      'apiVersion: mlops.seldon.io/v1alpha1\nkind: Model\nmetadata: {name: m, namespace: n}\nspec: {storageUri: s}\n';
    const pipeline =
      'apiVersion: mlops.seldon.io/v1alpha1\nkind: Pipeline\nmetadata: {name: p, namespace: n}\nspec: {steps: [{name: m}]}\n';
    const set = [
      ...parseManifests(model, 'a/m.yaml', 'a'),
      ...parseManifests(model, 'b/m.yaml', 'b'),
      ...parseManifests(pipeline, 'b/p.yaml', 'b'),
      ...parseManifests(pipeline, 'c/p.yaml', 'c'),
    ];
    expect(validateManifests(set).map((f) => `${f.file} ${f.check}`)).toEqual(['c/p.yaml missing-model']);
  });

  it('reports an object defined twice', () => {
    const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n';
    expect(checks(`${cm}---\n${cm}`)).toEqual(['metadata.name duplicate']);
  });

  it('honours a policy acceptance with a reason, and reports one that cannot stand', () => {
    const annotated = (annotations: Record<string, string>) => {
      const d = JSON.parse(deployment((_, c) => (c.image = 'app')));
      d.metadata.annotations = annotations;
      return JSON.stringify(d);
    };
    const c0 = 'spec.template.spec.containers[0]';
    expect(checks(annotated({}))).toEqual([`${c0}.image image-tag`]);
    expect(checks(annotated({ 'review.cdk8s-mlops.io/accept-image-tag': 'built in place by CI' }))).toEqual(
      [],
    );
    const at = (check: string) => `metadata.annotations.review.cdk8s-mlops.io/accept-${check} acceptance`;
    expect(checks(annotated({ 'review.cdk8s-mlops.io/accept-image-tag': ' ' }))).toEqual([
      at('image-tag'),
      `${c0}.image image-tag`,
    ]);
    expect(checks(annotated({ 'review.cdk8s-mlops.io/accept-secret-in-git': 'x' }))).toEqual([
      at('secret-in-git'),
      `${c0}.image image-tag`,
    ]);
  });
});

describe('literal credentials', () => {
  const secretFindings = (text: string) =>
    validateManifests(parseManifests(text, 'x.yaml')).filter((f) => f.check === 'secret-in-git');

  it('reports each credential shape in a workload, at its path, with the Secret reference fix and never the value', () => {
    const text = deployment((_pod, c) => {
      c.env = [
        { name: 'AWS_SECRET_ACCESS_KEY', value: 'wJalrXUtnFEMI' },
        { name: 'DATABASE_URL', value: 'postgres://u:PASSWORD1@db/app' },
        { name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf', key: 'token' } } },
      ];
      c.args = ['--password=hunter2', '--token', 'ghp_x', '--api-key', '$(API_KEY)'];
    });
    const found = secretFindings(text);
    const at = 'spec.template.spec.containers[0]';
    expect(found.map((f) => f.path)).toEqual([
      `${at}.args[0]`,
      `${at}.args[2]`,
      `${at}.env[0].value`,
      `${at}.env[1].value`,
    ]);
    expect(found.map((f) => f.message.slice(f.message.lastIndexOf('; ') + 2))).toEqual([
      'use a Secret reference: an env var with valueFrom.secretKeyRef, passed as $(VAR)',
      'use a Secret reference: an env var with valueFrom.secretKeyRef, passed as $(VAR)',
      'use a Secret reference (valueFrom.secretKeyRef)',
      expect.stringContaining('pass them from a Secret reference'),
    ]);
    const out = renderFindingsText(found, 1) + renderFindingsJson(found, 1);
    for (const leaked of ['wJalrXUtnFEMI', 'PASSWORD1', 'hunter2', 'ghp_x'])
      expect(out).not.toContain(leaked);
  });

  it('reports credentials in a Model storage URI and parameters, and in ConfigMap data', () => {
    const model = JSON.stringify({
      apiVersion: 'mlops.seldon.io/v1alpha1',
      kind: 'Model',
      metadata: { name: 'm', namespace: 'n' },
      spec: {
        storageUri: 's3://AKIA1:SECRET1@minio:9000/m',
        parameters: [
          { name: 'hf_token', value: 'hf_1' },
          { name: 'eos_token', value: '</s>' },
        ],
      },
    });
    const cm = JSON.stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', namespace: 'n' },
      data: { 'sasl.password': 'pw', LOG_LEVEL: 'debug' },
    });
    const found = secretFindings(`${model}\n---\n${cm}`);
    expect(found.map((f) => `${f.object} ${f.path}`)).toEqual([
      'ConfigMap n/c data["sasl.password"]',
      'Model n/m spec.parameters[0].value',
      'Model n/m spec.storageUri',
    ]);
    expect(found[0].message).toContain('move it to a Secret');
    expect(found[1].message).toMatch(/hf_token .*; use a Secret reference/);
    expect(found[2].message).toContain('s3:// URI holds a user name and password');
  });
});
