import { describe, expect, it } from 'vitest';
import { compareManifests } from '../../src/review/diff/compare.ts';
import { renderJson, renderMarkdown, renderText } from '../../src/review/diff/render-diff.ts';
import { parseManifests } from '../../src/review/manifests.ts';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const y = (text: string) => parseManifests(text, 'inline.yaml');
const rendered = (r: ReturnType<typeof compareManifests>) =>
  renderText(r) + renderMarkdown(r) + renderJson(r);

/** An object as a cluster returns it after `kubectl apply`: the applied JSON sits in an annotation. */
function applied(object: Record<string, unknown>, lastApplied: Record<string, unknown>): string {
  const metadata = object.metadata as Record<string, unknown>;
  const withAnnotation = {
    ...object,
    metadata: { ...metadata, annotations: { team: 'ml', [LAST_APPLIED]: JSON.stringify(lastApplied) } },
  };
  return JSON.stringify(withAnnotation);
}

const secret = (pw: string) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 's', namespace: 'serving' },
  data: { pw: Buffer.from(pw).toString('base64') },
});
/** The deployment now reads its password from a Secret; the annotation still holds the old inline value. */
const deployment = (image: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'd', namespace: 'serving' },
  spec: {
    template: {
      spec: {
        containers: [
          {
            name: 'c',
            image,
            env: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 's', key: 'pw' } } }],
          },
        ],
      },
    },
  },
});
const inlinePassword = (pw: string) => {
  const d = deployment('old');
  d.spec.template.spec.containers[0].env = [{ name: 'DB_PASSWORD', value: pw } as never];
  return d;
};

describe('the kubectl last-applied annotation in a diff', () => {
  const leaks = ['hunter2', 'aHVudGVyMg', 'sw0rdfish', 'c3cwcmRmaXNo', 'letmein'];
  const live = y(
    `${applied(secret('hunter2'), secret('hunter2'))}\n---\n${applied(deployment('old'), inlinePassword('letmein'))}`,
  );

  it('never shows a secret value when the objects change', () => {
    const desired = y(
      `${applied(secret('sw0rdfish'), secret('sw0rdfish'))}\n---\n${applied(deployment('new'), inlinePassword('sw0rdfish'))}`,
    );
    const r = compareManifests(live, desired);
    expect(r.summary).toMatchObject({ changed: 2 });
    const out = rendered(r);
    for (const leaked of leaks) expect(out).not.toContain(leaked);
    expect(out).toContain('<secret: 9 bytes>');
  });

  it('never shows a secret value when the objects are added or removed', () => {
    for (const r of [compareManifests([], live), compareManifests(live, [])]) {
      expect(r.objects).toHaveLength(2);
      const out = rendered(r);
      for (const leaked of leaks) expect(out).not.toContain(leaked);
    }
  });

  it('is not desired state: a change only there is no difference', () => {
    const reapplied = y(
      `${applied(secret('hunter2'), secret('sw0rdfish'))}\n---\n${applied(deployment('old'), inlinePassword('sw0rdfish'))}`,
    );
    expect(compareManifests(live, reapplied)).toMatchObject({ objects: [], summary: { unchanged: 2 } });
  });
});

describe('credential-shaped values in a diff', () => {
  const workload = (pw: string, token: string, key: string, s3: string, hf: string) =>
    JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'w', namespace: 'serving' },
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'c',
                image: 'app:1',
                env: [
                  { name: 'AWS_SECRET_ACCESS_KEY', value: key },
                  { name: 'DATABASE_URL', value: `postgres://u:${pw}@db/app` },
                  { name: 'LOG_LEVEL', value: 'debug' },
                ],
                args: [`--password=${pw}`, '--token', token, '--port', '80'],
              },
            ],
          },
        },
      },
    }) +
    '\n---\n' +
    JSON.stringify({
      apiVersion: 'mlops.seldon.io/v1alpha1',
      kind: 'Model',
      metadata: { name: 'm', namespace: 'serving' },
      spec: {
        storageUri: `s3://AKIAKEYID:${s3}@minio:9000/m`,
        parameters: [{ name: 'hf_token', value: hf }],
      },
    }) +
    '\n---\n' +
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cfg', namespace: 'serving' },
      data: { 'sasl.password': pw, batch: '32' },
    });
  const before = y(workload('PwOld111', 'ghpOld11', 'KeyOld11', 'S3Old111', 'HfOld111'));
  const after = y(workload('PwNew222', 'ghpNew22', 'KeyNew22', 'S3New222', 'HfNew222'));
  const values = [
    'PwOld111',
    'ghpOld11',
    'KeyOld11',
    'S3Old111',
    'HfOld111',
    'PwNew222',
    'ghpNew22',
    'KeyNew22',
  ];
  const all = [...values, 'S3New222', 'HfNew222', 'AKIAKEYID'];

  it('masks env, URI user-info, flags and parameters in text, markdown and JSON when they change', () => {
    const r = compareManifests(before, after);
    expect(r.summary).toMatchObject({ changed: 3 });
    for (const out of [renderText(r), renderMarkdown(r), renderJson(r)]) {
      for (const leaked of all) expect(out).not.toContain(leaked);
      expect(out).toContain('postgres://<secret: 10 bytes>@db/app');
    }
    const text = renderText(r);
    expect(text).toContain(
      'args: ["--password=<secret: 8 bytes>","--token","<secret: 8 bytes>","--port","80"]',
    );
    expect(text).toContain('env[name=AWS_SECRET_ACCESS_KEY].value: <secret: 8 bytes> → <secret: 8 bytes>');
    expect(text).toContain('spec.parameters[name=hf_token].value: <secret: 8 bytes> → <secret: 8 bytes>');
    expect(text).toContain(
      'spec.storageUri: s3://<secret: 18 bytes>@minio:9000/m → s3://<secret: 18 bytes>@minio:9000/m',
    );
    expect(text).toContain('data["sasl.password"]: <secret: 8 bytes> → <secret: 8 bytes>');
  });

  it('masks them in added and removed objects, and leaves other ConfigMap data readable', () => {
    for (const r of [compareManifests([], after), compareManifests(before, [])]) {
      for (const out of [renderText(r), renderMarkdown(r), renderJson(r)])
        for (const leaked of all) expect(out).not.toContain(leaked);
    }
    // The artifact note reads the masked URI.
    const moved = y(
      workload('PwNew222', 'ghpNew22', 'KeyNew22', 'S3New222', 'HfNew222').replace('9000/m"', '9000/m2"'),
    );
    expect(renderText(compareManifests(before, moved))).toContain(
      'artifact s3://<secret: 18 bytes>@minio:9000/m → s3://<secret: 18 bytes>@minio:9000/m2',
    );
    const changed = compareManifests(
      before,
      y(workload('PwOld111', 'ghpOld11', 'KeyOld11', 'S3Old111', 'HfOld111').replace('"32"', '"64"')),
    );
    expect(renderText(changed)).toContain('data.batch: 32 → 64');
  });
});
