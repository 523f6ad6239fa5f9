// `mlops diff --live` against a real kube-apiserver: what the server adds (defaults, status,
// uid, managedFields, canonical quantities, stringData → data) is never a difference; real
// drift is.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { compareManifests } from '../../src/review/diff/compare.ts';
import { liveComparison } from '../../src/review/diff/live.ts';
import { loadManifests } from '../../src/review/manifests.ts';
import { customResourceDefinitions } from '../../src/spec/crd-schemas.ts';
import { mlops } from '../review/cli.ts';
import { fixtures } from '../review/golden.ts';
import {
  type ApplyObject,
  type KubeApiserver,
  serverSideApply,
  startKubeApiserver,
} from './harness/index.ts';
import { describeE2E } from './harness/toolchain.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const desiredFile = join(fixtures, 'live/desired.yaml');

describeE2E('mlops diff --live on a real kube-apiserver', ['go'], () => {
  let kube: KubeApiserver;
  let work: string;

  beforeAll(async () => {
    kube = await startKubeApiserver();
    work = mkdtempSync(join(tmpdir(), 'live-diff-'));
    for (const crd of customResourceDefinitions()) await serverSideApply(kube, crd as unknown as ApplyObject);
    const objects = parseAllDocuments(readFileSync(desiredFile, 'utf8')).map((d) => d.toJS() as ApplyObject);
    for (const o of objects) {
      // Custom resources are served a moment after their definition is stored.
      for (let attempt = 0; ; attempt++) {
        try {
          await serverSideApply(kube, o);
          break;
        } catch (err) {
          if (attempt > 50) throw err;
          await sleep(200);
        }
      }
    }
  });

  afterAll(async () => {
    await kube?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('finds no difference right after applying (exit 0)', () => {
    const r = mlops(['diff', '--live', desiredFile, '--kubeconfig', kube.kubeconfigPath]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('0 added, 0 changed, 0 replaced, 0 removed (7 unchanged)\n');
    expect(r.code).toBe(0);
  });

  it('reports drift, new objects and traffic shifts (exit 1), never secret values', async () => {
    const dir = join(work, 'changed');
    mkdirSync(dir);
    const text = readFileSync(desiredFile, 'utf8')
      .replace('{name: iris, weight: 50}', '{name: iris, weight: 20}')
      .replace('{name: iris-v2, weight: 50}', '{name: iris-v2, weight: 80}')
      .replace('replicas: 2', 'replicas: 3')
      .replace('not-a-real-token', 'another-fake-token-value');
    writeFileSync(
      join(dir, 'all.yaml'),
      `${text}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: live-diff}\ndata: {a: b}\n` +
        // A kind the cluster does not serve: its objects cannot exist there yet.
        '---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: live-diff}\nspec: {size: 1}\n' +
        '---\napiVersion: mlops.seldon.io/v1alpha1\nkind: Modle\nmetadata: {name: typo, namespace: live-diff}\nspec: {}\n',
    );
    const r = mlops(['diff', '--live', dir, '--kubeconfig', kube.kubeconfigPath]);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe('3 added, 3 changed, 0 replaced, 0 removed (4 unchanged)');
    expect(r.stdout).toContain('+ Widget live-diff/w');
    expect(r.stdout).toContain('+ Modle live-diff/typo');
    expect(r.stdout).toContain('+ ConfigMap live-diff/extra');
    expect(r.stdout).toContain('* traffic iris 50% → 20%');
    expect(r.stdout).toContain('* traffic iris-v2 50% → 80%');
    expect(r.stdout).toContain('* replicas 2 → 3');
    expect(r.stdout).toMatch(/data.token: <secret: 16 bytes> → <secret: 24 bytes>/);
    expect(r.stdout).not.toMatch(/another-fake|not-a-real|YW5vdGhlci|bm90LWEtcmVhbC/);

    // The same through the API, with a context name that does not exist: a clear error.
    const { base, head } = await liveComparison(loadManifests([dir]), { kubeconfig: kube.kubeconfigPath });
    expect(compareManifests(base, head).summary).toEqual({
      added: 3,
      changed: 3,
      removed: 0,
      replaced: 0,
      unchanged: 4,
    });
    const bad = mlops(['diff', '--live', dir, '--kubeconfig', kube.kubeconfigPath, '--context', 'nope']);
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringMatching(/kubeconfig has no context "nope"/) });
  });
});
