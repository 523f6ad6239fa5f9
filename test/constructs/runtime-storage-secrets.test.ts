import { App } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { Environment } from '../../src/constructs/environment.ts';
import { Model } from '../../src/constructs/model.ts';
import { Runtime, type RuntimeProps } from '../../src/constructs/runtime.ts';
import { Server } from '../../src/constructs/server.ts';
import { ServerConfig } from '../../src/constructs/server-config.ts';
import { synthesizeObjects } from '../../src/synth/synthesize.ts';
import { type Json, problems } from './helpers.ts';

/** Server before the Runtime, Models after it: access is settled once the app is complete. */
function build(props: RuntimeProps, secrets: string[]): Json[] {
  const app = new App({ outdir: 'unused' });
  const env = new Environment(app, 'prod', { namespace: 'prod' });
  new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER });
  new Runtime(env, 'runtime', props);
  secrets.forEach((name, i) => {
    new Model(env, `m${i}`, { storageUri: 's3://models/iris', requirements: ['sklearn'], secret: { name } });
  });
  new Model(env, 'public', { storageUri: 'gs://seldon-models/iris', requirements: ['sklearn'] });
  return synthesizeObjects(app).map((o) => o.manifest as Json);
}

const agentOf = (pod: Json): Json => pod.containers.find((c: Json) => c.name === 'agent');
const podOf = (objects: Json[]): Json => objects.find((o) => o.kind === 'StatefulSet')?.spec.template.spec;

describe('agents read storage Secrets with least privilege', () => {
  it("grants `get` on exactly the Secrets Models and the Runtime name, to the agent's container only", () => {
    const objects = build({ storageSecrets: ['gcs-default'] }, ['minio', 'azure-sas', 'minio']);
    const role = objects.find((o) => o.kind === 'Role' && o.metadata.name === 'mlops-agent');
    expect(role?.rules).toEqual([
      {
        apiGroups: [''],
        resources: ['secrets'],
        resourceNames: ['azure-sas', 'gcs-default', 'minio'],
        verbs: ['get'],
      },
    ]);
    const binding = objects.find((o) => o.kind === 'RoleBinding' && o.metadata.name === 'mlops-agent');
    expect(binding?.subjects).toEqual([{ kind: 'ServiceAccount', name: 'mlops-agent' }]);
    const pod = podOf(objects);
    expect(pod.serviceAccountName).toBe('mlops-agent');
    // The token is projected into the agent only: model code in the inference server never sees it.
    expect(pod.automountServiceAccountToken).toBe(false);
    const mounts = (c: Json) => (c.volumeMounts ?? []).map((m: Json) => m.mountPath);
    expect(mounts(agentOf(pod))).toContain('/var/run/secrets/kubernetes.io/serviceaccount');
    const server = pod.containers.find((c: Json) => c.name !== 'agent');
    expect(mounts(server)).not.toContain('/var/run/secrets/kubernetes.io/serviceaccount');
    expect(agentOf(pod).args.join(' ')).toContain('--storage-secrets gcs-default');
    expect(agentOf(pod).args.join(' ')).toContain('--gateway mlops-gateway:');
  });

  it('gives agents no account and no token when no Secret is named', () => {
    const objects = build({}, []);
    expect(objects.some((o) => o.metadata.name === 'mlops-agent')).toBe(false);
    const pod = podOf(objects);
    expect(pod.serviceAccountName).toBeUndefined();
    expect(pod.volumes.map((v: Json) => v.name)).not.toContain('agent-api-token');
  });

  it('refuses a storage Secret name that is not a Kubernetes name', () => {
    const app = new App({ outdir: 'unused' });
    const env = new Environment(app, 'prod', { namespace: 'prod' });
    new Runtime(env, 'runtime', { storageSecrets: ['Not_A_Name'] });
    expect(problems(app).join('\n')).toContain('storageSecrets[0]: Secret name');
  });
});
