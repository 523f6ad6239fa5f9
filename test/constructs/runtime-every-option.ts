import { App } from 'cdk8s';
import { Environment } from '../../src/constructs/environment.ts';
import { Model } from '../../src/constructs/model.ts';
import { Pipeline } from '../../src/constructs/pipeline.ts';
import { Runtime } from '../../src/constructs/runtime.ts';
import { PvcRetentionPolicy, Server } from '../../src/constructs/server.ts';
import { ServerConfig } from '../../src/constructs/server-config.ts';

/** Every option of the Runtime and of Server workloads at once, beyond what the example apps use. */
export function everyOptionApp(): App {
  const app = new App({ outdir: 'unused' });
  const env = new Environment(app, 'all', { namespace: 'lint-all' });
  new Runtime(env, 'runtime', {
    gateway: { replicas: 2 },
    dataflow: { replicas: 2 },
    modelCache: { persistent: true, size: '5Gi' },
    kafka: { bootstrapServers: ['kafka:9092'], strimziTopics: { clusterName: 'main' } },
    storageSecrets: ['company-s3'],
  });
  const custom = new ServerConfig(env, 'custom', {
    capabilities: ['custom'],
    podSpec: {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'agent',
          image: 'example.org/agent:1.0',
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          readinessProbe: { httpGet: { path: '/ready', port: 9008 } },
          livenessProbe: { httpGet: { path: '/live', port: 9008 } },
        },
        {
          name: 'server',
          image: 'example.org/server:1.0',
          resources: { requests: { cpu: '1', memory: '2Gi' }, limits: { memory: '3Gi' } },
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          readinessProbe: { httpGet: { path: '/v2/health/ready', port: 9000 } },
          livenessProbe: { httpGet: { path: '/v2/health/live', port: 9000 } },
          volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
        },
      ],
    },
    volumeClaimTemplates: [
      {
        name: 'scratch',
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
    ],
  });
  new Server(env, 'custom-server', {
    serverConfig: custom,
    replicas: 2,
    pvcRetention: { whenScaled: PvcRetentionPolicy.DELETE },
  });
  new Server(env, 'triton', { serverConfig: ServerConfig.TRITON, minReplicas: 1, maxReplicas: 3 });
  const model = new Model(env, 'm', {
    storageUri: 's3://m',
    requirements: ['custom'],
    memory: '10Mi',
    secret: { name: 'minio' },
  });
  new Pipeline(env, 'flow', {}).addStep(model);
  return app;
}
