import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { ArtifactError } from './artifact-errors.ts';

/** Reads one Secret's `data` (base64 values). The agent asks only for the Secrets it is told about. */
export interface SecretReader {
  read(namespace: string, name: string): Promise<Record<string, string>>;
}

/**
 * Secrets through the Kubernetes API, with the pod's ServiceAccount (in a cluster) or KUBECONFIG.
 * Each read is a `get` of one named Secret: the synthesized Role grants exactly that.
 */
export class KubernetesSecretReader implements SecretReader {
  private api?: CoreV1Api;

  async read(namespace: string, name: string): Promise<Record<string, string>> {
    const api = this.client();
    try {
      const secret = await api.readNamespacedSecret({ name, namespace });
      return secret.data ?? {};
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === 404) {
        throw new ArtifactError(
          'bad-secret',
          `Secret "${name}" does not exist in namespace ${namespace}. Fix: create it (an rclone remote definition {name, type, parameters})`,
        );
      }
      if (code === 403) {
        throw new ArtifactError(
          'access-denied',
          `the agent may not read Secret "${name}" in namespace ${namespace}. Fix: name it in the Model's secret (or the Runtime's storageSecrets) so synthesis grants the agent \`get\` on it, and apply the new Role`,
        );
      }
      throw new ArtifactError(
        'transient',
        `reading Secret "${name}" in namespace ${namespace} failed: ${code ? `HTTP ${code}` : (err as Error).message}`,
      );
    }
  }

  private client(): CoreV1Api {
    if (this.api) return this.api;
    const inCluster = Boolean(process.env.KUBERNETES_SERVICE_HOST);
    const configured = process.env.KUBECONFIG || existsSync(join(homedir(), '.kube', 'config'));
    if (!inCluster && !configured) {
      throw new ArtifactError(
        'bad-secret',
        'storage Secrets are read through the Kubernetes API, and this agent has none. Fix: run it in a cluster or set KUBECONFIG',
      );
    }
    const kc = new KubeConfig();
    kc.loadFromDefault();
    this.api = kc.makeApiClient(CoreV1Api);
    return this.api;
  }
}
