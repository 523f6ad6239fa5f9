import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ControlGuard } from '../../../src/runtime/scheduler/control-guard.ts';
import {
  TokenReviewAuthenticator,
  type TokenReviewStatus,
} from '../../../src/runtime/scheduler/token-review.ts';
import { sharedSecretAuthenticator } from '../../../src/runtime/service/identity.ts';

const log = pino({ level: 'silent' });
/** What the API server would say: tokens named `pod:<ns>/<pod>` are bound to that pod. */
function reviewer(calls: string[] = []) {
  return async (token: string, audiences: string[]): Promise<TokenReviewStatus> => {
    calls.push(token);
    const m = /^pod:([^/]+)\/(.+)$/.exec(token);
    if (token === 'unbound')
      return { authenticated: true, audiences, user: { username: 'system:serviceaccount:ns:sa' } };
    if (token === 'user') return { authenticated: true, audiences, user: { username: 'alice' } };
    if (!m) return { authenticated: false, error: 'invalid bearer token' };
    return {
      authenticated: true,
      audiences,
      user: {
        username: `system:serviceaccount:${m[1]}:sa`,
        extra: { 'authentication.kubernetes.io/pod-name': [m[2]] },
      },
    };
  };
}
const replicas = {
  whenSynced: () => Promise.resolve(),
  replicaProblem: (server: string, idx: number) =>
    server === 'mlserver' && idx < 3 ? undefined : `Server "${server}" has replicas 0..2, not ${idx}`,
};
const guard = new ControlGuard({
  authenticator: new TokenReviewAuthenticator(reviewer(), { audience: 'mlops-scheduler' }),
  namespace: 'ns',
  replicas,
  log,
});
const call = (token?: string) => {
  const metadata = new grpc.Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  return { metadata, getPeer: () => '10.0.0.9:5000' };
};
const outcome = async (p: Promise<{ code: grpc.status; details: string } | undefined>) => {
  const r = await p;
  return r ? `${grpc.status[r.code]}: ${r.details}` : 'allowed';
};

describe('ControlGuard', () => {
  it('lets an agent act only as the replica its pod is, and register only a replica that exists', async () => {
    expect(await outcome(guard.agent(call('pod:ns/mlserver-1'), 'mlserver', 1, true))).toBe('allowed');
    expect(await outcome(guard.agent(call(), 'mlserver', 1, true))).toMatch(
      /^UNAUTHENTICATED: no credential/,
    );
    expect(await outcome(guard.agent(call('forged'), 'mlserver', 1))).toBe(
      'UNAUTHENTICATED: token refused: invalid bearer token',
    );
    expect(await outcome(guard.agent(call('pod:ns/rogue'), 'mlserver', 9, true))).toBe(
      'PERMISSION_DENIED: pod ns/rogue may act only as its own replica, not as mlserver-9',
    );
    expect(await outcome(guard.agent(call('pod:ns/mlserver-0'), 'mlserver', 1))).toMatch(
      /^PERMISSION_DENIED/,
    );
    expect(await outcome(guard.agent(call('pod:other/mlserver-1'), 'mlserver', 1))).toBe(
      'PERMISSION_DENIED: pod other/mlserver-1 is not in this scheduler\'s namespace "ns"',
    );
    expect(await outcome(guard.agent(call('pod:ns/mlserver-9'), 'mlserver', 9, true))).toBe(
      'NOT_FOUND: registration refused: Server "mlserver" has replicas 0..2, not 9',
    );
    // Only registering checks existence; acting as itself afterwards needs only the identity.
    expect(await outcome(guard.agent(call('pod:ns/mlserver-9'), 'mlserver', 9))).toBe('allowed');
    expect(await outcome(guard.agent(call('unbound'), 'mlserver', 1))).toMatch(/not bound to a pod/);
    expect(await outcome(guard.agent(call('user'), 'mlserver', 1))).toMatch(/is not a service account/);
  });

  it('route subscribers need a valid credential of this namespace', async () => {
    expect(await outcome(guard.routes(call('pod:ns/mlops-gateway-x')))).toBe('allowed');
    expect(await outcome(guard.routes(call()))).toMatch(/^UNAUTHENTICATED/);
    expect(await outcome(guard.routes(call('pod:elsewhere/gw')))).toMatch(/^PERMISSION_DENIED/);
  });

  it('with the run secret (mlops dev) any holder may act, but only as a replica that exists', async () => {
    const dev = new ControlGuard({ authenticator: sharedSecretAuthenticator('s3cret'), replicas, log });
    expect(await outcome(dev.agent(call('s3cret'), 'mlserver', 2, true))).toBe('allowed');
    expect(await outcome(dev.agent(call('guess'), 'mlserver', 2, true))).toMatch(/^UNAUTHENTICATED/);
    expect(await outcome(dev.agent(call('s3cret'), 'mlserver', 9, true))).toMatch(/^NOT_FOUND/);
  });
});

describe('TokenReviewAuthenticator', () => {
  it('asks the API server once per token while the answer is fresh, for its audience', async () => {
    const calls: string[] = [];
    let now = 0;
    const auth = new TokenReviewAuthenticator(reviewer(calls), {
      audience: 'mlops-scheduler',
      now: () => now,
    });
    await auth.authenticate('pod:ns/a-0');
    await auth.authenticate('pod:ns/a-0');
    expect(calls).toEqual(['pod:ns/a-0']);
    now = 31_000;
    await auth.authenticate('pod:ns/a-0');
    expect(calls).toHaveLength(2);
    const wrong = new TokenReviewAuthenticator(async () => ({ authenticated: true, audiences: ['api'] }), {
      audience: 'mlops-scheduler',
    });
    await expect(wrong.authenticate('t')).rejects.toThrow('the token is not for audience "mlops-scheduler"');
  });
});
