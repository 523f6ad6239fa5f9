/** The example apps synthesize without findings, and their objects pass the CRD schemas strictly. */
import type { App } from 'cdk8s';
import { beforeAll, describe, expect, it } from 'vitest';
import { collectFindings } from '../../src/constructs/validation.ts';
import { validateAgainstCrd } from '../../src/spec/crd-check.ts';
import { isMlopsObject } from '../../src/spec/objects.ts';
import { loadApp } from '../../src/synth/load-apps.ts';

const APPS = ['quickstart', 'fleet', 'pipelines', 'environments'];
const apps = new Map<string, App>();

// An app module runs once per process, so each is loaded once and shared by the tests.
beforeAll(async () => {
  for (const name of APPS)
    apps.set(name, await loadApp(new URL(`../../apps/${name}.ts`, import.meta.url).pathname));
});

const objectsOf = (name: string) => (apps.get(name) as App).charts.flatMap((c) => c.toJson());

describe.each(APPS)('apps/%s.ts', (name) => {
  it('synthesizes valid objects', () => {
    expect(collectFindings(apps.get(name) as App)).toEqual([]);
    const objects = objectsOf(name).filter(isMlopsObject);
    expect(objects.length).toBeGreaterThan(1);
    for (const o of objects) expect(validateAgainstCrd(o)).toEqual([]);
  });
});

it('environments.ts builds the same stack in two namespaces with different sizes', () => {
  const servers = objectsOf('environments')
    .filter((o) => o.kind === 'Server')
    .map((o) => [
      o.metadata.namespace,
      o.spec.replicas,
      o.spec.podSpec.containers[0].resources.requests.memory,
    ]);
  expect(servers).toEqual([
    ['ml-dev', 1, '1Gi'],
    ['ml-prod', 3, '4Gi'],
  ]);
});
