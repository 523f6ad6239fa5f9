import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { SCHEDULER_TOKEN_AUDIENCE } from '../../../src/spec/control-auth.ts';

/**
 * What the kubelet gives a pod's projected token volume: a Pod object `pod` (created when
 * missing; nothing runs it), and a service-account token bound to it for `audience`, written to
 * `<dir>/<pod>.token`. Returns the file's path.
 */
export async function podToken(
  kc: KubeConfig,
  namespace: string,
  pod: string,
  dir: string,
  opts: { serviceAccount?: string; audience?: string } = {},
): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  const account = opts.serviceAccount ?? 'workload';
  await core
    .createNamespacedServiceAccount({ namespace, body: { metadata: { name: account } } })
    .catch((err: { code?: number }) => {
      if (err.code !== 409) throw err;
    });
  const existing = await core.readNamespacedPod({ name: pod, namespace }).catch(() => undefined);
  const created =
    existing ??
    (await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: pod },
        spec: {
          serviceAccountName: account,
          automountServiceAccountToken: false,
          // Meets Pod Security "restricted", which namespaces of the apps enforce.
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 1000,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'main',
              image: 'registry.invalid/none:1',
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    }));
  const request = await core.createNamespacedServiceAccountToken({
    name: account,
    namespace,
    body: {
      spec: {
        audiences: [opts.audience ?? SCHEDULER_TOKEN_AUDIENCE],
        expirationSeconds: 3600,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod, uid: created.metadata?.uid },
      },
    },
  });
  const file = join(dir, `${pod}${opts.audience ? `-${opts.audience.replace(/\W+/g, '_')}` : ''}.token`);
  writeFileSync(file, request.status?.token ?? '', { mode: 0o600 });
  return file;
}
