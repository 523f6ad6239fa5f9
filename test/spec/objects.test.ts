import { describe, expect, it } from 'vitest';
import { isMlopsApiVersion, isMlopsObject } from '../../src/spec/objects.ts';

describe('objects', () => {
  it('recognises the group at any version, but our objects only at v1alpha1 and of a known kind', () => {
    expect([
      isMlopsApiVersion('mlops.seldon.io/v1'),
      isMlopsApiVersion('mlops.seldon.io.example/v1'),
    ]).toEqual([true, false]);
    expect(isMlopsObject({ apiVersion: 'mlops.seldon.io/v1alpha1', kind: 'Model' })).toBe(true);
    expect(isMlopsObject({ apiVersion: 'mlops.seldon.io/v1', kind: 'Model' })).toBe(false);
    expect(isMlopsObject({ apiVersion: 'mlops.seldon.io/v1alpha1', kind: 'Deployment' })).toBe(false);
    expect(isMlopsObject(null)).toBe(false);
  });
});
