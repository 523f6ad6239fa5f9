// What `mlops synth` writes for the example apps passes `mlops validate` with no findings.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadManifests } from '../../src/review/manifests.ts';
import { validateManifests } from '../../src/review/validate/validate.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'validate-apps-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('validate on synthesized apps', () => {
  it('finds nothing to fix in the example apps', () => {
    const apps = readdirSync(join(repo, 'apps')).filter((f) => f.endsWith('.ts') && !f.startsWith('_'));
    expect(apps.length).toBeGreaterThan(0);
    for (const app of apps) {
      const r = spawnSync(
        process.execPath,
        [
          join(repo, 'bin/mlops.js'),
          'synth',
          '--app',
          join(repo, 'apps', app),
          '--out',
          join(out, app.replace(/\.ts$/, '')),
        ],
        { encoding: 'utf8' },
      );
      expect(r.status, r.stderr).toBe(0);
    }
    const manifests = loadManifests([out]);
    expect(new Set(manifests.map((m) => m.id.set)).size).toBe(apps.length);
    expect(validateManifests(manifests)).toEqual([]);
  }, 120_000);
});
