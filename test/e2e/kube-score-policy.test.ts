// Policy gate: kube-score on everything synthesized — each app in dist/ and an app with every
// Runtime and Server option. Any finding fails the gate unless ACCEPTED lists it with the reason
// (the README's "Policy linter" section states the same reasons; a test keeps the two in step).
// An accepted entry that no longer matches anything fails too, so the list never outlives it.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { writeOutput } from '../../src/synth/output.ts';
import { synthesizeApp } from '../../src/synth/synthesize.ts';
import { everyOptionApp } from '../constructs/runtime-every-option.ts';
import { distDir, pinnedVersion, repoRoot } from './harness/cache.ts';
import { type KubeScoreFinding, runKubeScore } from './harness/kube-score.ts';
import { describeE2E } from './harness/toolchain.ts';

interface Accepted {
  check: string;
  /** Matches `Kind namespace/name (container)` of the finding. */
  where: RegExp;
  why: string;
}

const ACCEPTED: Accepted[] = [
  {
    check: 'container-image-pull-policy',
    where: /.*/,
    why: 'images are pinned to release tags, which never move; `Always` would make every pod start depend on the registry',
  },
  {
    check: 'container-security-context-user-group-id',
    where: /^StatefulSet \S+ \((mlserver|triton|server)\)$/,
    why: 'the MLServer and Triton images own their files as UID 1000; the inference server runs as that user (group 10001, like the rest of the pod)',
  },
  {
    check: 'horizontalpodautoscaler-replicas',
    where: /\/mlops-gateway$/,
    why: "the gateway's minimum replicas is the app's choice (`gateway.minReplicas`); the example dev apps keep one",
  },
  {
    check: 'statefulset-has-servicename',
    where: /\/mlops-dataflow$/,
    why: "the dataflow's pods need no DNS names of their own: gateways reach them through its load-balanced Service",
  },
  {
    check: 'statefulset-has-poddisruptionbudget',
    where: /\/mlops-dataflow$/,
    why: 'a single dataflow replica gets no PodDisruptionBudget, which would block every node drain',
  },
];

const kubernetesVersion = `v${pinnedVersion('KUBERNETES_VERSION').split('.').slice(0, 2).join('.')}`;

const describe = (f: KubeScoreFinding) => `${f.object}${f.path ? ` (${f.path})` : ''}`;
const unaccepted = (findings: KubeScoreFinding[]) =>
  findings.filter((f) => !ACCEPTED.some((a) => a.check === f.check && a.where.test(describe(f))));
const report = (findings: KubeScoreFinding[]) =>
  findings.map((f) => `${describe(f)}: [${f.check}] ${f.grade}: ${f.message}`).join('\n');
const yamlFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(dir, f));

describeE2E('kube-score policy gate on synthesized workloads', ['go'], () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-score-gate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const seen: KubeScoreFinding[] = [];

  it('flags an unhardened Deployment (the gate can fail)', async () => {
    const file = join(dir, 'bare.yaml');
    writeFileSync(
      file,
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: bare, namespace: smoke}\nspec:\n' +
        '  selector: {matchLabels: {app: bare}}\n  template:\n    metadata: {labels: {app: bare}}\n' +
        '    spec:\n      containers: [{name: main, image: "example.org/bare:latest"}]\n',
    );
    const checks = new Set((await runKubeScore([file], kubernetesVersion)).map((f) => f.check));
    expect(checks).toContain('container-resources');
    expect(checks).toContain('container-security-context-user-group-id');
  });

  const apps = readdirSync(distDir());
  it.each(apps)('finds nothing unaccepted in dist/%s', async (app) => {
    const findings = await runKubeScore(yamlFiles(join(distDir(), app)), kubernetesVersion);
    seen.push(...findings);
    expect(report(unaccepted(findings))).toBe('');
  });

  it('finds nothing unaccepted with every Runtime and Server option', async () => {
    writeOutput(join(dir, 'all'), synthesizeApp(everyOptionApp()));
    const findings = await runKubeScore(yamlFiles(join(dir, 'all')), kubernetesVersion);
    seen.push(...findings);
    expect(report(unaccepted(findings))).toBe('');
  });

  it('still needs every accepted entry, and the README gives each reason', () => {
    const stale = ACCEPTED.filter((a) => !seen.some((f) => a.check === f.check && a.where.test(describe(f))));
    expect(stale.map((a) => `${a.check} ${a.where}`)).toEqual([]);
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    expect(ACCEPTED.filter((a) => !readme.includes(`\`${a.check}\``)).map((a) => a.check)).toEqual([]);
  });
});
