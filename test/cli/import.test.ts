// The round trip on our own fixtures: import → type-check → synth gives the same objects back.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { compareManifests } from '../../src/review/diff/compare.ts';
import { loadManifests } from '../../src/review/manifests.ts';
import { EXTERNAL_REFERENCES_ANNOTATION } from '../../src/spec/annotations.ts';
import { ACCEPTED_POLICY_PREFIX } from '../../src/spec/policy.ts';
import { mlops } from '../review/cli.ts';
import { fixtures } from '../review/golden.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'cli-import-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const input = join(fixtures, 'import/serving.yaml');
const app = join(work, 'app.ts');

describe('mlops import', () => {
  it('writes an app that synthesizes back to the same objects', () => {
    const imp = mlops(['import', input, '-o', app]);
    expect(imp).toMatchObject({ code: 0, stderr: '' });
    const out = join(work, 'out');
    const syn = mlops(['synth', '--app', app, '--out', out, '--target', 'seldon']);
    expect(syn.code, syn.stderr).toBe(0);
    const diff = compareManifests(loadManifests([input]), loadManifests([out]));
    // The only additions are annotations: objects that reference something the input does not
    // declare (imported as `fromName`) say so, so `mlops validate` trusts those references; the
    // ServerConfig, kept as written, accepts the policy checks its pod template fails.
    const changes = diff.objects.flatMap((o) => o.changes.map((c) => ({ object: o.id.name, ...c })));
    expect(changes.length).toBeGreaterThan(0);
    // Steps also spell out the join type the CRD defaults, so re-applying changes nothing.
    const defaults = changes.filter((c) => /^spec\.steps\[name=[^\]]+\]\.inputsJoinType$/.test(c.path));
    for (const c of defaults) expect(c).toMatchObject({ op: 'add', after: 'inner' });
    const keys = changes
      .filter((c) => !defaults.includes(c))
      .flatMap((c) => {
        expect(c).toMatchObject({ op: 'add', path: 'metadata.annotations' });
        return Object.keys(c.after as object);
      });
    expect(keys).toContain(EXTERNAL_REFERENCES_ANNOTATION);
    expect(keys).toContain(`${ACCEPTED_POLICY_PREFIX}pss-seccomp`);
    for (const k of keys)
      expect(k === EXTERNAL_REFERENCES_ANNOTATION || k.startsWith(ACCEPTED_POLICY_PREFIX)).toBe(true);
    expect(diff.summary.unchanged + diff.summary.changed).toBe(13);
    // The input alone has dangling references; the synthesized set marks them external.
    expect(mlops(['validate', input]).stdout).toContain('[reference/');
    expect(mlops(['validate', out]).stdout).not.toContain('[reference/');
  }, 120_000);

  it('writes code that is already formatted and type-checks', () => {
    const copy = join(work, 'formatted.ts');
    cpSync(app, copy);
    const biome = spawnSync(join(repo, 'node_modules/.bin/biome'), ['format', '--write', copy], {
      cwd: repo,
      encoding: 'utf8',
    });
    expect(biome.status, biome.stderr).toBe(0);
    expect(readFileSync(copy, 'utf8')).toBe(readFileSync(app, 'utf8'));

    // Type-check against the package as users import it ('cdk8s-mlops'), with the project's settings.
    symlinkSync(join(repo, 'node_modules'), join(work, 'node_modules'));
    writeFileSync(join(work, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(
      join(work, 'tsconfig.json'),
      JSON.stringify({
        extends: join(repo, 'tsconfig.json'),
        compilerOptions: { paths: { 'cdk8s-mlops': [join(repo, 'src/index.ts')] } },
        files: ['app.ts'],
      }),
    );
    const tsc = spawnSync(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', work], {
      encoding: 'utf8',
    });
    expect(tsc.status, tsc.stdout).toBe(0);
  }, 120_000);

  it('prints to standard output and refuses invalid input with exit 2', () => {
    const r = mlops(['import', input]);
    expect(r.stdout).toBe(readFileSync(app, 'utf8'));
    const bad = mlops(['import', join(fixtures, 'import/invalid/references.yaml')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /import refused, 2 problems:\n.*references.yaml: Pipeline fraud-flow: spec.steps\[1\].inputs\[0\]/,
    );
  });
});
