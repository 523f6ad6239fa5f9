/** The runtime's own workloads: scheduler (with its RBAC), gateway and dataflow engine. */
import { Chart, Lazy } from 'cdk8s';
import type { Construct } from 'constructs';
import { CONFIG_HASH_ANNOTATION } from '../../spec/annotations.ts';
import { SCHEDULER_TOKEN_FILE } from '../../spec/control-auth.ts';
import { componentArgv } from '../../spec/flags.ts';
import { gatewayHeapMiB, gatewayInflightBytes } from '../../spec/gateway-memory.ts';
import { PORTS } from '../../spec/ports.ts';
import { parseQuantity } from '../../spec/quantity.ts';
import { schedulerTokenMount, schedulerTokenVolume, tokenReviewAccess } from './control-identity.ts';
import { k8s, ServiceAccount } from './kplus.ts';
import { dataflowPolicy, gatewayPolicy, schedulerPolicy } from './network.ts';
import {
  disruptionBudget,
  fieldEnv,
  httpProbe,
  podLabels,
  port,
  type ResourceSettings,
  RUNTIME_UID,
  resources,
  restrictedContainerSecurity,
  restrictedPodSecurity,
  selectorLabels,
  service,
  spreadOverNodes,
  TMP_MOUNT,
  tmpVolume,
} from './workload.ts';

export interface ComponentContext {
  readonly prefix: string;
  readonly instance: string;
  readonly image: string;
  readonly imagePullPolicy: string;
  /** Environment of every container (the Runtime's tracing settings). */
  readonly env?: readonly k8s.EnvVar[];
}

interface PodOptions {
  component: string;
  args: string[];
  ports: k8s.ContainerPort[];
  readiness: k8s.Probe;
  liveness: k8s.Probe;
  resources: ResourceSettings;
  env?: k8s.EnvVar[];
  envFrom?: k8s.EnvFromSource[];
  mounts?: k8s.VolumeMount[];
  /** Mounts known only once the app is complete. */
  lateMounts?: () => k8s.VolumeMount[];
  volumes?: k8s.Volume[];
  serviceAccountName?: string;
  annotations?: Record<string, string>;
}

function podTemplate(ctx: ComponentContext, o: PodOptions): k8s.PodTemplateSpec {
  const selector = selectorLabels(o.component, ctx.instance);
  const mounts = [...(o.mounts ?? []), TMP_MOUNT];
  return {
    metadata: {
      labels: podLabels(o.component, ctx.instance),
      ...(o.annotations ? { annotations: o.annotations } : {}),
    },
    spec: {
      // Only the scheduler and the dataflow talk to the Kubernetes API.
      automountServiceAccountToken: o.serviceAccountName !== undefined,
      ...(o.serviceAccountName ? { serviceAccountName: o.serviceAccountName } : {}),
      affinity: spreadOverNodes(selector),
      securityContext: restrictedPodSecurity(RUNTIME_UID),
      containers: [
        {
          name: o.component,
          image: ctx.image,
          imagePullPolicy: ctx.imagePullPolicy,
          args: o.args,
          ...(o.env || ctx.env ? { env: [...(o.env ?? []), ...(ctx.env ?? [])] } : {}),
          ...(o.envFrom ? { envFrom: o.envFrom } : {}),
          ports: o.ports,
          readinessProbe: o.readiness,
          livenessProbe: o.liveness,
          resources: resources(o.resources),
          securityContext: restrictedContainerSecurity(),
          volumeMounts: o.lateMounts
            ? Lazy.any({ produce: () => [...(o.mounts ?? []), ...(o.lateMounts?.() ?? []), TMP_MOUNT] })
            : mounts,
        },
      ],
      volumes: [...(o.volumes ?? []), tmpVolume()],
    },
  };
}

const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** The scheduler's ServiceAccount, and a Role (bound to it) with exactly what it calls. */
function schedulerAccess(scope: Construct, name: string, lease: string): void {
  // Its pod mounts the token; the account itself does not hand one to every pod.
  new ServiceAccount(scope, 'ServiceAccount', { metadata: { name }, automountToken: false });
  const group = 'mlops.seldon.io';
  // Exactly what the Kubernetes source calls: informers (list + watch), merge patches of status
  // and scale, and the StatefulSet scale of autoscaled Servers; and its own Lease.
  new k8s.KubeRole(scope, 'Role', {
    metadata: { name },
    rules: [
      {
        apiGroups: [group],
        resources: ['experiments', 'models', 'pipelines', 'servers'],
        verbs: ['list', 'watch'],
      },
      {
        apiGroups: [group],
        resources: ['experiments/status', 'models/status', 'pipelines/status', 'servers/status'],
        verbs: ['patch'],
      },
      { apiGroups: [group], resources: ['models/scale', 'servers/scale'], verbs: ['patch'] },
      { apiGroups: ['apps'], resources: ['statefulsets/scale'], verbs: ['get', 'patch'] },
      {
        apiGroups: [COORDINATION_GROUP],
        resources: ['leases'],
        resourceNames: [lease],
        verbs: ['get', 'update'],
      },
      // Kubernetes cannot limit `create` by name (the object has none until it exists).
      { apiGroups: [COORDINATION_GROUP], resources: ['leases'], verbs: ['create'] },
    ],
  });
  new k8s.KubeRoleBinding(scope, 'RoleBinding', {
    metadata: { name },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name }],
  });
}

/**
 * The agents' ServiceAccount and a Role (bound to it) with `get` on the named storage Secrets
 * only: no list or watch, so an agent cannot find or read any other Secret.
 */
export function agentSecretAccess(scope: Construct, name: string, secrets: () => string[]): void {
  new ServiceAccount(scope, 'ServiceAccount', { metadata: { name }, automountToken: false });
  new k8s.KubeRole(scope, 'Role', {
    metadata: { name },
    rules: Lazy.any({
      produce: () => [{ apiGroups: [''], resources: ['secrets'], resourceNames: secrets(), verbs: ['get'] }],
    }),
  });
  new k8s.KubeRoleBinding(scope, 'RoleBinding', {
    metadata: { name },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name }],
  });
}

const COORDINATION_GROUP = 'coordination.k8s.io';

/**
 * The scheduler: `replicas` pods, one leading through the Lease named like the Deployment. Only
 * the leader opens its gRPC port, so the Service is headless: agents and gateways resolve every
 * pod and connect to the one that accepts.
 */
export function schedulerObjects(
  scope: Construct,
  ctx: ComponentContext,
  res: ResourceSettings,
  replicas: number,
): string {
  const name = `${ctx.prefix}-scheduler`;
  const selector = selectorLabels('scheduler', ctx.instance);
  schedulerAccess(scope, name, name);
  // Agents and gateways show tokens bound to their pods; the scheduler has them reviewed.
  tokenReviewAccess(scope, name, Chart.of(scope).namespace ?? 'default');
  new k8s.KubeDeployment(scope, 'Deployment', {
    metadata: { name },
    spec: {
      replicas,
      // The new pod stands by until the old leader, stopping, hands the Lease over.
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate: {
          maxSurge: k8s.IntOrString.fromNumber(1),
          maxUnavailable: k8s.IntOrString.fromNumber(0),
        },
      },
      selector: { matchLabels: selector },
      template: podTemplate(ctx, {
        component: 'scheduler',
        args: componentArgv('scheduler', {
          kubernetes: true,
          port: PORTS.scheduler,
          'health-port': PORTS.schedulerHealth,
          'leader-lease': name,
        }),
        env: [fieldEnv('POD_NAMESPACE', 'metadata.namespace'), fieldEnv('POD_NAME', 'metadata.name')],
        ports: [port('grpc', PORTS.scheduler), port('health', PORTS.schedulerHealth)],
        // A standby is ready too (ready to take over); `/ready` waits only for a leader's restart.
        readiness: httpProbe('/ready', 'health'),
        liveness: httpProbe('/live', 'health', { initialDelaySeconds: 5 }),
        resources: res,
        serviceAccountName: name,
      }),
    },
  });
  service(
    scope,
    'Service',
    name,
    selector,
    [{ name: 'grpc', port: PORTS.scheduler, appProtocol: 'kubernetes.io/h2c' }],
    { headless: true },
  );
  if (replicas > 1) disruptionBudget(scope, 'Budget', name, selector);
  schedulerPolicy(scope, name, ctx.instance);
  return `${name}:${PORTS.scheduler}`;
}

export interface GatewayScaling {
  readonly replicas?: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly targetCpuUtilization: number;
}

export function gatewayObjects(
  scope: Construct,
  ctx: ComponentContext,
  res: ResourceSettings,
  scaling: GatewayScaling,
  scheduler: string,
  pipelineGateway: string | undefined,
): string {
  const name = `${ctx.prefix}-gateway`;
  const selector = selectorLabels('gateway', ctx.instance);
  const autoscaled = scaling.replicas === undefined;
  // Its memory limit sizes what it holds; a malformed quantity is reported by the Runtime's checks.
  const memoryLimit = parseQuantity(res.limits.memory);
  new k8s.KubeDeployment(scope, 'Deployment', {
    metadata: { name },
    spec: {
      // With an autoscaler the replica count is its to set: leaving it out keeps GitOps from resetting it.
      ...(autoscaled ? {} : { replicas: scaling.replicas }),
      selector: { matchLabels: selector },
      template: podTemplate(ctx, {
        component: 'gateway',
        args: componentArgv('gateway', {
          'http-port': PORTS.gatewayHttp,
          'grpc-port': PORTS.gatewayGrpc,
          scheduler,
          'max-inflight-bytes': memoryLimit ? gatewayInflightBytes(memoryLimit) : undefined,
          'pipeline-gateway': pipelineGateway ? [pipelineGateway] : undefined,
          'scheduler-token-file': SCHEDULER_TOKEN_FILE,
        }),
        env: memoryLimit
          ? [{ name: 'NODE_OPTIONS', value: `--max-old-space-size=${gatewayHeapMiB(memoryLimit)}` }]
          : undefined,
        mounts: [schedulerTokenMount],
        volumes: [schedulerTokenVolume()],
        ports: [port('http', PORTS.gatewayHttp), port('grpc', PORTS.gatewayGrpc)],
        readiness: httpProbe('/v2/health/ready', 'http'),
        liveness: httpProbe('/v2/health/live', 'http', { initialDelaySeconds: 5 }),
        resources: res,
      }),
    },
  });
  service(scope, 'Service', name, selector, [
    { name: 'http', port: PORTS.gatewayHttp },
    { name: 'grpc', port: PORTS.gatewayGrpc, appProtocol: 'kubernetes.io/h2c' },
  ]);
  if (autoscaled) {
    new k8s.KubeHorizontalPodAutoscalerV2(scope, 'Autoscaler', {
      metadata: { name },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        minReplicas: scaling.minReplicas,
        maxReplicas: scaling.maxReplicas,
        metrics: [
          {
            type: 'Resource',
            resource: {
              name: 'cpu',
              target: { type: 'Utilization', averageUtilization: scaling.targetCpuUtilization },
            },
          },
        ],
      },
    });
  }
  disruptionBudget(scope, 'DisruptionBudget', name, selector);
  gatewayPolicy(scope, name, ctx.instance, pipelineGateway !== undefined);
  return `${name}:${PORTS.gatewayGrpc}`;
}

export interface DataflowOptions {
  readonly replicas: number;
  readonly resources: ResourceSettings;
  readonly namespace: string;
  readonly kafkaConfigMap: string;
  readonly kafkaPorts: number[];
  /** Secret volumes (CA, client certificate and key, SASL password) and their mounts. */
  readonly kafkaSecrets: { volumes: k8s.Volume[]; mounts: k8s.VolumeMount[] };
  /** Changes whenever the Kafka settings do (read once, from the environment): the pods restart. */
  readonly configHash: string;
  readonly inference: string;
}

/**
 * The dataflow's ServiceAccount and a Role (bound to it) with exactly what its Kubernetes source
 * calls: an informer (list + watch) on the namespace's Pipelines; nothing else.
 */
function dataflowAccess(scope: Construct, name: string): void {
  new ServiceAccount(scope, 'ServiceAccount', { metadata: { name }, automountToken: false });
  new k8s.KubeRole(scope, 'Role', {
    metadata: { name },
    rules: [{ apiGroups: ['mlops.seldon.io'], resources: ['pipelines'], verbs: ['list', 'watch'] }],
  });
  new k8s.KubeRoleBinding(scope, 'RoleBinding', {
    metadata: { name },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name }],
  });
}

export function dataflowObjects(scope: Construct, ctx: ComponentContext, o: DataflowOptions): string {
  const name = `${ctx.prefix}-dataflow`;
  const selector = selectorLabels('dataflow', ctx.instance);
  dataflowAccess(scope, name);
  // A StatefulSet: stable pod names name the transactional producers, so a restarted pod fences
  // its predecessor and no output is committed twice.
  new k8s.KubeStatefulSet(scope, 'StatefulSet', {
    metadata: { name },
    spec: {
      replicas: o.replicas,
      serviceName: name,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: selector },
      template: podTemplate(ctx, {
        component: 'dataflow',
        args: componentArgv('dataflow', {
          // Pipelines are watched, and each change applied live: no pod restarts for one.
          kubernetes: true,
          namespace: o.namespace,
          'topic-prefix': '$(MLOPS_KAFKA_TOPIC_PREFIX)',
          partitions: '$(MLOPS_KAFKA_PARTITIONS)',
          'replication-factor': '$(MLOPS_KAFKA_REPLICATION_FACTOR)',
          inference: o.inference,
          'http-port': PORTS.dataflowHttp,
          'grpc-port': PORTS.dataflowGrpc,
          'instance-id': '$(POD_NAME)',
        }),
        env: [fieldEnv('POD_NAME', 'metadata.name')],
        // MLOPS_KAFKA_BROKERS and the settings above come from the Kafka ConfigMap.
        envFrom: [{ configMapRef: { name: o.kafkaConfigMap } }],
        ports: [port('http', PORTS.dataflowHttp), port('grpc', PORTS.dataflowGrpc)],
        readiness: httpProbe('/v2/health/ready', 'http'),
        liveness: httpProbe('/v2/health/live', 'http', { initialDelaySeconds: 10 }),
        resources: o.resources,
        mounts: o.kafkaSecrets.mounts,
        volumes: o.kafkaSecrets.volumes,
        serviceAccountName: name,
        annotations: { [CONFIG_HASH_ANNOTATION]: o.configHash },
      }),
    },
  });
  service(scope, 'Service', name, selector, [
    { name: 'http', port: PORTS.dataflowHttp },
    { name: 'grpc', port: PORTS.dataflowGrpc, appProtocol: 'kubernetes.io/h2c' },
  ]);
  dataflowPolicy(scope, name, ctx.instance, o.kafkaPorts);
  return `${name}:${PORTS.dataflowHttp}:${PORTS.dataflowGrpc}`;
}
