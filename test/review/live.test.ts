import { describe, expect, it } from 'vitest';
import { kubeConfig, project } from '../../src/review/diff/live.ts';
import { parseQuantity, sameQuantity } from '../../src/review/quantity.ts';

describe('project (live object onto the desired fields)', () => {
  it('drops what the server added and keeps declared fields', () => {
    const live = {
      metadata: { name: 'a', uid: 'u' },
      spec: { replicas: 1, strategy: { type: 'RollingUpdate' } },
      status: {},
    };
    expect(project(live, { metadata: { name: 'a' }, spec: { replicas: 2 } })).toEqual({
      metadata: { name: 'a' },
      spec: { replicas: 1 },
    });
  });

  it('matches list items by key and keeps items only the cluster has (applying removes them)', () => {
    const live = {
      containers: [
        { name: 'b', image: 'b:1', terminationMessagePath: '/dev/x' },
        { name: 'a', image: 'a:1', imagePullPolicy: 'IfNotPresent' },
      ],
    };
    expect(project(live, { containers: [{ name: 'a', image: 'a:2' }] })).toEqual({
      containers: [
        { name: 'b', image: 'b:1', terminationMessagePath: '/dev/x' },
        { name: 'a', image: 'a:1' },
      ],
    });
  });

  it('treats the canonical spelling of a quantity as the declared one', () => {
    expect(project({ cpu: '500m', memory: '1Gi' }, { cpu: '0.5', memory: '1024Mi' })).toEqual({
      cpu: '0.5',
      memory: '1024Mi',
    });
    expect(project({ memory: '2Gi' }, { memory: '1Gi' })).toEqual({ memory: '2Gi' });
  });
});

describe('quantities', () => {
  it('parses binary, decimal and exponent forms', () => {
    expect(parseQuantity('1Gi')).toBe(2 ** 30);
    expect(parseQuantity('500m')).toBe(0.5);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity('12k')).toBe(12_000);
    expect(parseQuantity('lots')).toBeUndefined();
    expect(sameQuantity('1024Mi', '1Gi')).toBe(true);
    expect(sameQuantity('1G', '1Gi')).toBe(false);
  });
});

describe('kubeConfig', () => {
  it('names a missing kubeconfig file', () => {
    expect(() => kubeConfig({ kubeconfig: '/nonexistent/kubeconfig' })).toThrow(
      /cannot load kubeconfig \/nonexistent\/kubeconfig/,
    );
  });
});
