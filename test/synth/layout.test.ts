import { describe, expect, it } from 'vitest';
import { CRDS_FILE, isManagedFile, objectFileName } from '../../src/synth/layout.ts';

describe('objectFileName', () => {
  it('names a file by group, kind, namespace and name', () => {
    const name = objectFileName({
      apiVersion: 'mlops.seldon.io/v1alpha1',
      kind: 'Model',
      metadata: { name: 'iris', namespace: 'prod' },
    });
    expect(name).toBe('mlops.seldon.io_Model_prod_iris.yaml');
  });

  it('uses "core" for the core group and "cluster" when there is no namespace', () => {
    expect(objectFileName({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod' } })).toBe(
      'core_Namespace_cluster_prod.yaml',
    );
  });

  it('keeps same-named objects of different namespaces or kinds apart', () => {
    const a = objectFileName({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'x', namespace: 'a' } });
    const b = objectFileName({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'x', namespace: 'b' } });
    const c = objectFileName({
      apiVersion: 'apps/v1',
      kind: 'Service',
      metadata: { name: 'x', namespace: 'a' },
    });
    expect(new Set([a, b, c]).size).toBe(3);
  });

  it('replaces characters that do not belong in file names', () => {
    const name = objectFileName({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:mlops' },
    });
    expect(name).toBe('rbac.authorization.k8s.io_ClusterRole_cluster_system-mlops.yaml');
    expect(isManagedFile(name)).toBe(true);
  });
});

describe('isManagedFile', () => {
  it('recognises the CRD file and object files, and nothing else', () => {
    expect(isManagedFile(CRDS_FILE)).toBe(true);
    expect(isManagedFile('apps_Deployment_prod_web.yaml')).toBe(true);
    expect(isManagedFile('kustomization.yaml')).toBe(false);
    expect(isManagedFile('README.md')).toBe(false);
    expect(isManagedFile('a_b_c.yaml')).toBe(false);
    expect(isManagedFile('.apps_Deployment_prod_web.yaml.12.tmp')).toBe(false);
  });
});
