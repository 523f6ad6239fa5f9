/**
 * How the runtime's pods prove who they are to the scheduler, as Kubernetes objects: a projected
 * service-account token for the scheduler's audience in the agent and gateway containers (the
 * kubelet binds it to the pod and rotates it), and the scheduler's right to check such tokens
 * with the TokenReview API. Also the drain hooks of server pods: only the pod itself starts a drain.
 */
import { JsonPatch } from 'cdk8s';
import type { Construct } from 'constructs';
import {
  SCHEDULER_TOKEN_AUDIENCE,
  SCHEDULER_TOKEN_DIR,
  SCHEDULER_TOKEN_SECONDS,
} from '../../spec/control-auth.ts';
import { k8s } from './kplus.ts';

export const SCHEDULER_TOKEN_VOLUME = 'scheduler-token';

/** A token for the scheduler only: useless against the API server, bound to this pod. */
export function schedulerTokenVolume(): k8s.Volume {
  return {
    name: SCHEDULER_TOKEN_VOLUME,
    projected: {
      sources: [
        {
          serviceAccountToken: {
            audience: SCHEDULER_TOKEN_AUDIENCE,
            expirationSeconds: SCHEDULER_TOKEN_SECONDS,
            path: 'token',
          },
        },
      ],
    },
  };
}

export const schedulerTokenMount: k8s.VolumeMount = {
  name: SCHEDULER_TOKEN_VOLUME,
  mountPath: SCHEDULER_TOKEN_DIR,
  readOnly: true,
};

/**
 * Lets the scheduler's ServiceAccount create TokenReviews, through the built-in
 * `system:auth-delegator` ClusterRole (TokenReviews and SubjectAccessReviews, nothing else).
 * Cluster-scoped, so named after the namespace too.
 */
export function tokenReviewAccess(scope: Construct, account: string, namespace: string): void {
  const binding = new k8s.KubeClusterRoleBinding(scope, 'TokenReview', {
    metadata: { name: `${namespace}-${account}-tokenreview` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
    subjects: [{ kind: 'ServiceAccount', name: account, namespace }],
  });
  // The chart gives every object its namespace; a ClusterRoleBinding has none.
  binding.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
}

/**
 * The agent's preStop hook: POST /terminate from inside the pod (the runtime image has no shell,
 * so Node makes the call) and wait until the replica's models have moved.
 */
export function agentDrainHook(adminPort: number): k8s.Lifecycle {
  const script = `fetch('http://127.0.0.1:${adminPort}/terminate',{method:'POST'}).then(r=>r.text(),()=>'')`;
  return { preStop: { exec: { command: ['/usr/bin/node', '-e', script] } } };
}

/** Other containers of a server pod wait for the agent's drain (GET /drained starts nothing). */
export function drainWaitHook(adminPort: number): k8s.Lifecycle {
  return { preStop: { httpGet: { path: '/drained', port: k8s.IntOrString.fromNumber(adminPort) } } };
}
