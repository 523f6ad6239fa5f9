import { CoordinationV1Api, type KubeConfig, type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import type { LeaseApi, LeaseRecord } from './leader-election.ts';

/** The `LeaseApi` of one coordination.k8s.io/v1 Lease on the Kubernetes API. */
export function kubernetesLeaseApi(kc: KubeConfig, namespace: string, name: string): LeaseApi {
  const api = kc.makeApiClient(CoordinationV1Api);
  const toLease = (r: LeaseRecord): V1Lease => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, ...(r.resourceVersion ? { resourceVersion: r.resourceVersion } : {}) },
    spec: {
      holderIdentity: r.holder,
      leaseDurationSeconds: r.durationSeconds,
      leaseTransitions: r.transitions,
      // MicroTime: the API server wants exactly six fractional digits.
      ...(r.acquireTime ? { acquireTime: new V1MicroTime(r.acquireTime.getTime()) } : {}),
      ...(r.renewTime ? { renewTime: new V1MicroTime(r.renewTime.getTime()) } : {}),
    },
  });
  return {
    async get() {
      try {
        return fromLease(await api.readNamespacedLease({ name, namespace }));
      } catch (err) {
        if ((err as { code?: number }).code === 404) return undefined;
        throw err;
      }
    },
    async create(r) {
      return fromLease(await api.createNamespacedLease({ namespace, body: toLease(r) }));
    },
    async update(r) {
      return fromLease(await api.replaceNamespacedLease({ name, namespace, body: toLease(r) }));
    },
  };
}

function fromLease(l: V1Lease): LeaseRecord {
  const s = l.spec ?? {};
  const time = (t: Date | string | undefined) => (t ? new Date(t) : undefined);
  return {
    holder: s.holderIdentity ?? '',
    durationSeconds: s.leaseDurationSeconds ?? 0,
    acquireTime: time(s.acquireTime),
    renewTime: time(s.renewTime),
    transitions: s.leaseTransitions ?? 0,
    resourceVersion: l.metadata?.resourceVersion,
  };
}
