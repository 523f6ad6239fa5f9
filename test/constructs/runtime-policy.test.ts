// The project's own policy (`mlops validate`: Pod Security "restricted", requests/limits, probes,
// pinned images, schemas) holds for everything the runtime target synthesizes.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifests } from '../../src/review/manifests.ts';
import { validateManifests } from '../../src/review/validate/validate.ts';
import { loadApp } from '../../src/synth/load-apps.ts';
import { synthesizeApp } from '../../src/synth/synthesize.ts';
import { everyOptionApp } from './runtime-every-option.ts';

function findings(files: ReadonlyMap<string, string>): string[] {
  const manifests = [...files].flatMap(([file, text]) => parseManifests(text, file));
  return validateManifests(manifests, { ignoreMissingSchemas: true }).map(
    (f) => `${f.object} ${f.path}: [${f.check}] ${f.message}`,
  );
}

describe('runtime workloads under the project policy', () => {
  it('every Runtime and Server option passes', () => {
    const files = synthesizeApp(everyOptionApp());
    expect([...files.keys()].filter((f) => f.startsWith('apps_'))).toEqual([
      'apps_Deployment_lint-all_mlops-gateway.yaml',
      'apps_Deployment_lint-all_mlops-scheduler.yaml',
      'apps_StatefulSet_lint-all_custom-server.yaml',
      'apps_StatefulSet_lint-all_mlops-dataflow.yaml',
      'apps_StatefulSet_lint-all_triton.yaml',
    ]);
    expect(findings(files)).toEqual([]);
  });

  const apps = readdirSync(new URL('../../apps/', import.meta.url)).filter((f) => f.endsWith('.ts'));
  it.each(apps)('the example app %s passes', async (file) => {
    const app = await loadApp(new URL(`../../apps/${file}`, import.meta.url).pathname);
    expect(findings(synthesizeApp(app))).toEqual([]);
  });
});
