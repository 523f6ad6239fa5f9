// Service-account tokens checked with the Kubernetes TokenReview API: the API server verifies
// signature, expiry, audience, and that the pod the token is bound to still exists; the pod's
// name then identifies the caller. Results are cached briefly so a reconnect storm after a
// restart costs one review per pod, not one per call.
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { AuthError, type Authenticator, type ControlIdentity } from '../service/identity.ts';

/** What the API server says about a token (the `status` of a TokenReview). */
export interface TokenReviewStatus {
  authenticated?: boolean;
  error?: string;
  audiences?: string[];
  user?: { username?: string; extra?: Record<string, string[]> };
}

export type TokenReviewer = (token: string, audiences: string[]) => Promise<TokenReviewStatus>;

/** Reviews tokens through the API server (needs `create` on `tokenreviews`). */
export async function kubernetesTokenReviewer(kc: KubeConfig): Promise<TokenReviewer> {
  const { AuthenticationV1Api } = await import('@kubernetes/client-node');
  const api = kc.makeApiClient(AuthenticationV1Api);
  return async (token, audiences) => {
    const review = await api.createTokenReview({
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences } },
    });
    return review.status ?? {};
  };
}

const POD_NAME_EXTRA = 'authentication.kubernetes.io/pod-name';
const SA_USER = /^system:serviceaccount:([^:]+):([^:]+)$/;

export interface TokenReviewOptions {
  audience: string;
  /** How long an accepted token is trusted without asking again. */
  cacheMs?: number;
  now?: () => number;
}

export class TokenReviewAuthenticator implements Authenticator {
  private readonly cache = new Map<string, { until: number; result: Promise<ControlIdentity> }>();

  constructor(
    private readonly review: TokenReviewer,
    private readonly opts: TokenReviewOptions,
  ) {}

  authenticate(token: string): Promise<ControlIdentity> {
    const now = (this.opts.now ?? Date.now)();
    const key = createHash('sha256').update(token).digest('hex');
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.result;
    for (const [k, v] of this.cache) if (v.until <= now) this.cache.delete(k);
    const result = this.check(token);
    // A refusal is remembered for a moment only: enough to absorb a retry loop.
    this.cache.set(key, { until: now + (this.opts.cacheMs ?? 30_000), result });
    result.catch(() => this.cache.set(key, { until: now + 2000, result }));
    return result;
  }

  private async check(token: string): Promise<ControlIdentity> {
    const { audience } = this.opts;
    let status: TokenReviewStatus;
    try {
      status = await this.review(token, [audience]);
    } catch (err) {
      throw new AuthError(`the token could not be reviewed: ${(err as Error).message}`);
    }
    if (!status.authenticated) throw new AuthError(`token refused: ${status.error || 'not authenticated'}`);
    if (status.audiences && !status.audiences.includes(audience))
      throw new AuthError(`the token is not for audience "${audience}"`);
    const user = SA_USER.exec(status.user?.username ?? '');
    if (!user) throw new AuthError(`"${status.user?.username}" is not a service account`);
    const pod = status.user?.extra?.[POD_NAME_EXTRA]?.[0];
    if (!pod)
      throw new AuthError('the token is not bound to a pod: present a projected service-account token');
    return { kind: 'pod', namespace: user[1], serviceAccount: user[2], pod };
  }
}
