import { App } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { Environment } from '../../src/constructs/environment.ts';
import { Model } from '../../src/constructs/model.ts';
import { Server } from '../../src/constructs/server.ts';
import { ServerConfig } from '../../src/constructs/server-config.ts';
import { type Json, problems } from './helpers.ts';

interface StackProps {
  namespace: string;
  replicas: number;
  memory: string;
}

/** The pattern the construct library is built for: one function, one environment per call. */
function servingStack(app: App, id: string, props: StackProps): Environment {
  const env = new Environment(app, id, { namespace: props.namespace, labels: { env: id } });
  const server = new Server(env, 'mlserver', {
    serverConfig: ServerConfig.MLSERVER,
    replicas: props.replicas,
  });
  new Model(env, 'iris', {
    storageUri: 'gs://m/iris',
    requirements: ['sklearn'],
    memory: props.memory,
    server,
  });
  return env;
}

describe('Environment', () => {
  it('builds several namespaces from one function, with per-environment props and no name hashes', () => {
    const app = new App({ outdir: 'unused' });
    const dev = servingStack(app, 'dev', { namespace: 'ml-dev', replicas: 1, memory: '100Mi' });
    const prod = servingStack(app, 'prod', { namespace: 'ml-prod', replicas: 3, memory: '200Mi' });
    const summary = (env: Environment) =>
      env
        .toJson()
        .filter((o: Json) => o.kind !== 'Namespace')
        .map((o: Json) => [
          o.kind,
          o.metadata.namespace,
          o.metadata.name,
          o.metadata.labels.env,
          o.spec.replicas ?? o.spec.memory,
        ]);
    expect(summary(dev)).toEqual([
      ['Server', 'ml-dev', 'mlserver', 'dev', 1],
      ['Model', 'ml-dev', 'iris', 'dev', '100Mi'],
    ]);
    expect(summary(prod)).toEqual([
      ['Server', 'ml-prod', 'mlserver', 'prod', 3],
      ['Model', 'ml-prod', 'iris', 'prod', '200Mi'],
    ]);
    expect(problems(app)).toEqual([]);
  });

  it('declares its Namespace, cluster-scoped, enforcing Pod Security restricted, one sync wave early', () => {
    const app = new App({ outdir: 'unused' });
    const env = new Environment(app, 'prod', { namespace: 'ml-prod', labels: { team: 'ml' } });
    const namespaces = env.toJson().filter((o: Json) => o.kind === 'Namespace');
    expect(namespaces).toEqual([
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: 'ml-prod',
          labels: {
            team: 'ml',
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/warn': 'restricted',
            'pod-security.kubernetes.io/audit': 'restricted',
          },
          annotations: { 'argocd.argoproj.io/sync-wave': '-1' },
        },
      },
    ]);
  });

  it('leaves the Namespace out when it is managed elsewhere (createNamespace: false)', () => {
    const app = new App({ outdir: 'unused' });
    const env = new Environment(app, 'prod', { namespace: 'ml-prod', createNamespace: false });
    new Model(env, 'iris', { storageUri: 's' });
    expect(env.toJson().map((o: Json) => o.kind)).toEqual(['Model']);
    expect(problems(app)).toEqual([]);
  });

  it('reports a createNamespace that is not true or false', () => {
    const app = new App({ outdir: 'unused' });
    new Environment(app, 'prod', { namespace: 'ml-prod', createNamespace: 'no' as unknown as boolean });
    expect(problems(app)).toEqual([expect.stringContaining('createNamespace: must be true or false')]);
  });

  it('finds the environment of a construct and defaults the Kafka topic prefix', () => {
    const app = new App({ outdir: 'unused' });
    const env = new Environment(app, 'e', { namespace: 'e' });
    const m = new Model(env, 'iris', { storageUri: 's' });
    expect(Environment.find(m)).toBe(env);
    expect(env.kafkaTopicPrefix).toBe('seldon');
    expect(m.namespace).toBe('e');
  });
});
