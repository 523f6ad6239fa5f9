import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { argocdConfigMapYaml, HEALTH_SCRIPTS, healthScript } from '../../src/cli/argocd-health.ts';
import { mlops } from '../review/cli.ts';

const committed = () => readFileSync(new URL('../../argocd/argocd-cm.yaml', import.meta.url), 'utf8');

describe('mlops argocd-health', () => {
  it('prints an argocd-cm entry for each of the five kinds, holding its Lua script', () => {
    const r = mlops(['argocd-health', '--namespace', 'gitops']);
    expect(r.code, r.stderr).toBe(0);
    const cm = parse(r.stdout) as {
      kind: string;
      metadata: { name: string; namespace: string };
      data: object;
    };
    expect(cm).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'argocd-cm', namespace: 'gitops' } });
    expect(cm.data).toEqual({
      'resource.customizations.health.mlops.seldon.io_Model': healthScript('conditions.lua'),
      'resource.customizations.health.mlops.seldon.io_Server': healthScript('conditions.lua'),
      'resource.customizations.health.mlops.seldon.io_Pipeline': healthScript('conditions.lua'),
      'resource.customizations.health.mlops.seldon.io_Experiment': healthScript('conditions.lua'),
      'resource.customizations.health.mlops.seldon.io_ServerConfig': healthScript('serverconfig.lua'),
    });
    expect(Object.keys(HEALTH_SCRIPTS)).toHaveLength(5);
  });

  it('the committed argocd/argocd-cm.yaml is what it prints (regenerate: mlops argocd-health > argocd/argocd-cm.yaml)', () => {
    expect(committed()).toBe(argocdConfigMapYaml('argocd'));
  });

  it('the package ships the scripts', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      files: string[];
    };
    expect(pkg.files).toContain('argocd');
  });
});
