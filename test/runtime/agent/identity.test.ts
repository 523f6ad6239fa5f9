import { describe, expect, it } from 'vitest';
import { replicaIdentity } from '../../../src/runtime/agent/main.ts';

describe('replicaIdentity', () => {
  it('reads a StatefulSet pod name, flags win', () => {
    expect(replicaIdentity(undefined, undefined, 'mlserver-2')).toEqual({ server: 'mlserver', replica: 2 });
    expect(replicaIdentity('triton', '0', 'mlserver-2')).toEqual({ server: 'triton', replica: 0 });
    expect(replicaIdentity(undefined, undefined, 'my-server-10')).toEqual({
      server: 'my-server',
      replica: 10,
    });
  });
  it('says what is missing', () => {
    expect(replicaIdentity(undefined, undefined, undefined)).toContain('--server NAME');
    expect(replicaIdentity('s', 'x', undefined)).toContain('--replica N is required');
  });
});
