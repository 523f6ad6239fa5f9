// Policy gate: kube-linter's default checks on everything the runtime target synthesizes. Any
// finding fails the gate unless it is in ACCEPTED, where each entry says why it is accepted
// (the same list is in docs/runtime-synthesis.md). Entries that no longer match anything fail
// too, so the list never outlives its reason.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeOutput } from '../../src/synth/output.ts';
import { synthesizeApp } from '../../src/synth/synthesize.ts';
import { everyOptionApp } from '../constructs/runtime-every-option.ts';
import { distDir } from './harness/cache.ts';
import { type KubeLinterFinding, kubeLinterUnavailableReason, runKubeLinter } from './harness/kube-linter.ts';
import { describeE2E } from './harness/toolchain.ts';

interface Accepted {
  check: string;
  /** Matches `Kind namespace/name` of the object. */
  object: RegExp;
  why: string;
}

/** Findings consciously accepted (none so far): see docs/runtime-synthesis.md. */
const ACCEPTED: Accepted[] = [];

function unaccepted(findings: KubeLinterFinding[]): KubeLinterFinding[] {
  return findings.filter((f) => !ACCEPTED.some((a) => a.check === f.check && a.object.test(f.object)));
}

const suite = () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-lint-gate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const seen: KubeLinterFinding[] = [];

  const report = (findings: KubeLinterFinding[]) =>
    findings.map((f) => `${f.object}: [${f.check}] ${f.message}`).join('\n');

  it('finds nothing unaccepted in the example apps (dist/)', async () => {
    const apps = readdirSync(distDir()).map((d) => join(distDir(), d));
    expect(apps.length, 'dist/ is empty: run `npx mlops synth`').toBeGreaterThan(0);
    const { findings } = await runKubeLinter(apps);
    seen.push(...findings);
    expect(report(unaccepted(findings))).toBe('');
  }, 120_000);

  it('finds nothing unaccepted with every Runtime and Server option', async () => {
    writeOutput(join(dir, 'all'), synthesizeApp(everyOptionApp()));
    const { findings } = await runKubeLinter([join(dir, 'all')]);
    seen.push(...findings);
    expect(report(unaccepted(findings))).toBe('');
  }, 120_000);

  it('still needs every accepted entry', () => {
    const stale = ACCEPTED.filter((a) => !seen.some((f) => a.check === f.check && a.object.test(f.object)));
    expect(stale.map((a) => `${a.check} ${a.object}`)).toEqual([]);
  });
};

const unavailable = kubeLinterUnavailableReason();
if (unavailable) {
  describe.skip(
    `kube-linter policy gate — kube-linter unavailable on this machine: ${unavailable.split('\n')[0]}`,
    suite,
  );
} else {
  describeE2E('kube-linter policy gate on synthesized workloads', ['go'], suite);
}
