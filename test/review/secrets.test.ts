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
