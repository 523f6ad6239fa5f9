/**
 * What a Server runs as in the runtime target: a StatefulSet (inference server + agent sidecar +
 * model cache), the headless Service that gives each pod a DNS name, a PodDisruptionBudget and
 * a NetworkPolicy.
 */
import { ApiObject, Lazy, Size } from 'cdk8s';
import { Construct, type IConstruct } from 'constructs';
import { SERVER_NAME_LABEL } from '../../spec/annotations.ts';
import { SCHEDULER_TOKEN_FILE } from '../../spec/control-auth.ts';
import { componentArgv } from '../../spec/flags.ts';
import { PORTS } from '../../spec/ports.ts';
import { parseQuantity } from '../../spec/quantity.ts';
import type { IServerConfig } from '../interfaces.ts';
import { AGENT_CONTAINER, type ServerPodSpec } from '../pod-spec.ts';
import { formatBytes, memoryBytes, renderMemory } from '../quantity.ts';
import { ServerConfig } from '../server-config.ts';
import { addProblem } from '../validation.ts';
import {
  agentDrainHook,
  drainWaitHook,
  schedulerTokenMount,
  schedulerTokenVolume,
} from './control-identity.ts';
import { MLSERVER_IMAGE, TRITON_IMAGE } from './images.ts';
import { k8s } from './kplus.ts';
import { serverNetworkPolicy } from './network.ts';
import { hardenContainer, mergeContainer, mergePodSpec } from './pod-merge.ts';
import {
  disruptionBudget,
  fieldEnv,
  httpProbe,
  type Json,
  podLabels,
  port,
  type ResourceSettings,
  RUNTIME_UID,
  resources,
  restrictedPodSecurity,
  selectorLabels,
  service,
  spreadOverNodes,
  TMP_MOUNT,
  tmpVolume,
} from './workload.ts';

/** Where the agent keeps downloaded artifacts and the server's model repository. */
export const AGENT_DIR = '/mnt/agent';
export const MODELS_DIR = `${AGENT_DIR}/models`;
const CACHE_VOLUME = 'model-cache';
/** UID the MLServer and Triton images run as. */
const SERVER_UID = 1000;
/** Local disk of the inference server: its 1Gi /tmp (model environments unpack there) and logs. */
const SERVER_EPHEMERAL = { request: '256Mi', limit: '2Gi' };
/** Pods get this long to move their models elsewhere before they are killed. */
const DRAIN_SECONDS = 120;

/** The model cache of each server pod. */
export interface ModelCacheSettings {
  /** Size of the cache (artifacts plus the unpacked model repository). */
  readonly size: string;
  /** A PersistentVolumeClaim per pod instead of an emptyDir. */
  readonly persistent: boolean;
  /** Storage class of persistent caches; undefined: the cluster's default. */
  readonly storageClassName?: string;
}

/** What server workloads take from the namespace's Runtime. */
export interface ServerRuntimeSettings {
  readonly instance: string;
  readonly image: string;
  readonly imagePullPolicy: string;
  readonly schedulerAddress: string;
  readonly agentResources: ResourceSettings;
  readonly modelCache: ModelCacheSettings;
  /** `host:port` of the gateway: explainers and LLM models call their targets through it. */
  readonly gatewayAddress?: string;
  /** Secrets with the namespace's default storage remotes. */
  readonly storageSecrets?: readonly string[];
  /**
   * The ServiceAccount agents read storage Secrets with, once the app is complete; undefined:
   * no Secret to read, so no token is mounted.
   */
  readonly agentAccount?: () => string | undefined;
  /** Environment of every agent (the Runtime's tracing settings). */
  readonly env?: readonly k8s.EnvVar[];
}

/** The agent's API token, mounted in the agent container only (the model server never sees it). */
const TOKEN_VOLUME = 'agent-api-token';
const tokenVolume: Json = {
  name: TOKEN_VOLUME,
  projected: {
    sources: [
      { serviceAccountToken: { path: 'token', expirationSeconds: 3600 } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
    ],
  },
};
const tokenMount: Json = {
  name: TOKEN_VOLUME,
  mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
  readOnly: true,
};

/** What happens to a server pod's volume claims when the StatefulSet is deleted or scaled down. */
export interface ClaimRetention {
  readonly whenDeleted?: 'Retain' | 'Delete';
  readonly whenScaled?: 'Retain' | 'Delete';
}

/** What a Server declares that its workloads need. */
export interface ServerWorkloadView {
  readonly name: string;
  readonly podSpec: ServerPodSpec | undefined;
  readonly replicas: number | undefined;
  readonly autoscaled: boolean;
  readonly pvcRetention: ClaimRetention | undefined;
  readonly agentOverride: Json | undefined;
  readonly capabilities: readonly string[] | undefined;
  readonly overCommitPercentage: number | undefined;
  readonly inferenceContainer: string | undefined;
}

/** A Server as its workloads see it (an interface, so this module does not import the Server's). */
export interface WorkloadServer extends IConstruct {
  readonly serverConfig: IServerConfig;
  readonly workloadView: ServerWorkloadView;
}

/** Seldon's built-in configurations request 1G for the server; limits add a quarter for the process. */
const DEFAULT_MEMORY = '1G';

function builtInServerContainer(config: string): Json | undefined {
  const ports = [port('server-http', PORTS.serverHttp), port('server-grpc', PORTS.serverGrpc)];
  if (config === 'mlserver') {
    const env = {
      MLSERVER_HTTP_PORT: String(PORTS.serverHttp),
      MLSERVER_GRPC_PORT: String(PORTS.serverGrpc),
      MLSERVER_METRICS_PORT: String(PORTS.mlserverMetrics),
      MLSERVER_MODELS_DIR: MODELS_DIR,
      MLSERVER_MODEL_REPOSITORY_ROOT: MODELS_DIR,
      MLSERVER_LOAD_MODELS_AT_STARTUP: 'false',
      MLSERVER_PARALLEL_WORKERS: '1',
      // MLServer writes these under its working directory by default; the root is read-only.
      MLSERVER_METRICS_DIR: '/tmp/.metrics',
      MLSERVER_ENVIRONMENTS_DIR: '/tmp/.envs',
    };
    return {
      name: 'mlserver',
      image: MLSERVER_IMAGE,
      env: Object.entries(env).map(([name, value]) => ({ name, value })),
      ports: [...ports, port('server-metrics', PORTS.mlserverMetrics)],
    };
  }
  if (config === 'triton') {
    return {
      name: 'triton',
      image: TRITON_IMAGE,
      command: ['tritonserver'],
      args: [
        `--model-repository=${MODELS_DIR}`,
        `--http-port=${PORTS.serverHttp}`,
        `--grpc-port=${PORTS.serverGrpc}`,
        `--metrics-port=${PORTS.tritonMetrics}`,
        '--model-control-mode=explicit',
      ],
      ports: [...ports, port('server-metrics', PORTS.tritonMetrics)],
      volumeMounts: [{ name: 'dshm', mountPath: '/dev/shm' }],
    };
  }
  return undefined;
}

/** The configuration's pod spec (and claim templates), or undefined when it is not known here. */
function configPod(server: WorkloadServer): { pod: Json; claims: Json[] } | undefined {
  const config = server.serverConfig;
  if (config instanceof ServerConfig) {
    const spec = config.apiObject.toJson().spec as { podSpec: Json; volumeClaimTemplates?: Json[] };
    // rclone is Seldon's downloader: the agent fetches artifacts itself.
    const containers = (spec.podSpec.containers ?? []).filter((c: Json) => c.name !== 'rclone');
    // Seldon's claim templates are `{ name, spec }`; a StatefulSet's carry the name in metadata.
    const claims = (spec.volumeClaimTemplates ?? []).map((c) => ({
      metadata: { name: c.name },
      spec: c.spec,
    }));
    return { pod: { ...spec.podSpec, containers }, claims };
  }
  const container = builtInServerContainer(config.name);
  if (!container) return undefined;
  const volumes =
    config.name === 'triton'
      ? [
          k8s.toJson_Volume({
            name: 'dshm',
            emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('256Mi') },
          }),
        ]
      : [];
  return { pod: { containers: [container], volumes }, claims: [] };
}

/** A quarter above the request, in the largest exact binary unit (as the apiserver writes it back). */
function memoryLimit(request: string): string {
  const bytes = memoryBytes(request) ?? 1e9;
  return renderMemory(Size.mebibytes(Math.ceil((bytes * 1.25) / 2 ** 20)));
}

/**
 * The CPU request and limit, defaults filled in (1 and 2 cores) so that the request never
 * exceeds the limit: a declared limit below 1 is also the request, a request above 2 the limit.
 */
function cpuDefaults(request: unknown, limit: unknown): { request: unknown; limit: unknown } {
  const cores = (q: unknown) => (q === undefined ? undefined : parseQuantity(String(q)));
  return {
    request: request ?? ((cores(limit) ?? 1) < 1 ? limit : '1'),
    limit: limit ?? ((cores(request) ?? 0) > 2 ? request : '2'),
  };
}

function inferenceDefaults(container: Json): Json {
  const request = String(container.resources?.requests?.memory ?? DEFAULT_MEMORY);
  const ports: Json[] = container.ports ?? [];
  const httpPort = ports.find((p) => p.containerPort === PORTS.serverHttp);
  const probePort = httpPort?.name ?? 'server-http';
  const mounts: Json[] = container.volumeMounts ?? [];
  const mountsCache = mounts.some((m) => m.mountPath === AGENT_DIR);
  const cpu = cpuDefaults(container.resources?.requests?.cpu, container.resources?.limits?.cpu);
  // What the container declares wins over these defaults.
  return {
    readinessProbe: k8s.toJson_Probe(httpProbe('/v2/health/ready', probePort)),
    livenessProbe: k8s.toJson_Probe(httpProbe('/v2/health/live', probePort, { initialDelaySeconds: 10 })),
    startupProbe: k8s.toJson_Probe(httpProbe('/v2/health/live', probePort, { failureThreshold: 30 })),
    // Every container waits for the agent's drain, so the server keeps answering meanwhile.
    lifecycle: k8s.toJson_Lifecycle(drainWaitHook(PORTS.agentAdmin)),
    ...container,
    ports: httpPort ? ports : [...ports, port('server-http', PORTS.serverHttp)],
    resources: {
      requests: {
        cpu: cpu.request,
        'ephemeral-storage': SERVER_EPHEMERAL.request,
        ...(container.resources?.requests ?? {}),
        memory: request,
      },
      limits: {
        cpu: cpu.limit,
        memory: memoryLimit(request),
        'ephemeral-storage': SERVER_EPHEMERAL.limit,
        ...(container.resources?.limits ?? {}),
      },
    },
    volumeMounts: [
      ...mounts,
      ...(mountsCache ? [] : [{ name: CACHE_VOLUME, mountPath: AGENT_DIR, readOnly: true }]),
      ...(mounts.some((m) => m.mountPath === '/tmp') ? [] : [TMP_MOUNT]),
    ],
  };
}

function agentContainer(view: ServerWorkloadView, settings: ServerRuntimeSettings, inference: string): Json {
  const env: k8s.EnvVar[] = [
    fieldEnv('POD_NAME', 'metadata.name'),
    fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
    { name: 'SELDON_SERVER_NAME', value: view.name },
    {
      name: 'MEMORY_REQUEST',
      // In bytes, said explicitly: the apiserver would default the divisor of this atomic field.
      valueFrom: {
        resourceFieldRef: {
          containerName: inference,
          resource: 'requests.memory',
          divisor: k8s.Quantity.fromString('1'),
        },
      },
    },
    { name: 'SELDON_OVERCOMMIT_PERCENTAGE', value: String(view.overCommitPercentage ?? 10) },
    { name: 'MLOPS_SCHEDULER_ADDRESS', value: settings.schedulerAddress },
  ];
  if (view.capabilities?.length)
    env.push({ name: 'SELDON_SERVER_CAPABILITIES', value: view.capabilities.join(',') });
  if (settings.env) env.push(...settings.env);
  const agent: k8s.Container = {
    name: AGENT_CONTAINER,
    image: settings.image,
    imagePullPolicy: settings.imagePullPolicy,
    args: componentArgv('agent', {
      // Gateways reach the pod by this name: `<pod>.<headless service>` resolves in the namespace.
      host: `$(POD_NAME).${view.name}`,
      'inference-url': `http://127.0.0.1:${PORTS.serverHttp}`,
      'inference-grpc': `127.0.0.1:${PORTS.serverGrpc}`,
      'models-dir': MODELS_DIR,
      'cache-dir': `${AGENT_DIR}/cache`,
      'scheduler-token-file': SCHEDULER_TOKEN_FILE,
      ...(settings.gatewayAddress ? { gateway: settings.gatewayAddress } : {}),
      ...(settings.storageSecrets?.length ? { 'storage-secrets': [...settings.storageSecrets] } : {}),
    }),
    env,
    ports: [
      port('agent-http', PORTS.agentHttp),
      port('agent-grpc', PORTS.agentGrpc),
      port('agent-admin', PORTS.agentAdmin),
    ],
    readinessProbe: httpProbe('/ready', 'agent-admin'),
    livenessProbe: httpProbe('/live', 'agent-admin'),
    lifecycle: agentDrainHook(PORTS.agentAdmin),
    resources: resources(settings.agentResources, agentEphemeralLimit(settings.modelCache)),
    volumeMounts: [{ name: CACHE_VOLUME, mountPath: AGENT_DIR }, TMP_MOUNT, schedulerTokenMount],
  };
  // Merged by name with the Server's override, which is open JSON in Seldon's shape.
  const json = k8s.toJson_Container(agent) as Json;
  return view.agentOverride ? mergeContainer(json, view.agentOverride) : json;
}

/** The pod and claim templates of a server's StatefulSet, or undefined (with a problem) when they cannot be built. */
function serverPod(
  server: WorkloadServer,
  settings: ServerRuntimeSettings,
  selector: Record<string, string>,
): { pod: Json; claims: Json[] } | undefined {
  const view = server.workloadView;
  const base = configPod(server);
  if (!base) {
    addProblem(server, {
      field: 'serverConfig',
      value: server.serverConfig.name,
      message: `the runtime cannot build pods from the configuration "${server.serverConfig.name}" declared elsewhere: its pod spec is unknown here`,
      fix: 'declare it in this app with `new ServerConfig(...)`, use ServerConfig.MLSERVER or ServerConfig.TRITON, or synthesize with `--target seldon` for a Seldon installation',
    });
    return undefined;
  }
  const merged = mergePodSpec(base.pod, view.podSpec as Json | undefined);
  const inferenceName =
    view.inferenceContainer ?? merged.containers.find((c: Json) => c.name !== AGENT_CONTAINER)?.name;
  const containers: Json[] = merged.containers
    .filter((c: Json) => c.name !== AGENT_CONTAINER)
    .map((c: Json) => hardenContainer(inferenceDefaults(c)));
  if (!inferenceName) {
    addProblem(server, {
      field: 'serverConfig',
      value: server.serverConfig.name,
      message: 'the configuration has no inference server container besides the agent',
      fix: 'add the inference server (e.g. an MLServer or Triton container) to the ServerConfig pod spec',
    });
    return undefined;
  }
  const userAgent = merged.containers.find((c: Json) => c.name === AGENT_CONTAINER);
  const agent = agentContainer(
    {
      ...view,
      agentOverride: userAgent ? withoutSeldonAgentFields(userAgent, view.agentOverride) : view.agentOverride,
    },
    settings,
    inferenceName,
  );
  const cache = settings.modelCache;
  const claims = [...base.claims];
  // Model environments may be unpacked into /tmp: more room than the runtime components get.
  const volumes: Json[] = [
    ...(merged.volumes ?? []),
    k8s.toJson_Volume(tmpVolume('1Gi')) as Json,
    k8s.toJson_Volume(schedulerTokenVolume()) as Json,
  ];
  if (cache.persistent) {
    const spec: k8s.PersistentVolumeClaimSpec = {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: k8s.Quantity.fromString(cache.size) } },
      ...(cache.storageClassName ? { storageClassName: cache.storageClassName } : {}),
    };
    claims.push({ metadata: { name: CACHE_VOLUME }, spec: k8s.toJson_PersistentVolumeClaimSpec(spec) });
  } else {
    const volume: k8s.Volume = {
      name: CACHE_VOLUME,
      emptyDir: { sizeLimit: k8s.Quantity.fromString(cache.size) },
    };
    volumes.push(k8s.toJson_Volume(volume) as Json);
  }
  const { containers: _c, initContainers, volumes: _v, securityContext, ...podRest } = merged;
  const allContainers = [...containers, hardenContainer(agent, RUNTIME_UID)];
  const byName = (a: Json, b: Json) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  // Whether agents read storage Secrets is known once every Model of the namespace is declared.
  const account = () => settings.agentAccount?.();
  const pod: Json = {
    ...podRest,
    automountServiceAccountToken: false,
    serviceAccountName: Lazy.any({ produce: () => account() ?? podRest.serviceAccountName }),
    terminationGracePeriodSeconds: podRest.terminationGracePeriodSeconds ?? DRAIN_SECONDS,
    // Each kind of affinity the server declares replaces the default's; the others stay.
    affinity: { ...spreadOverNodes(selector), ...(podRest.affinity ?? {}) },
    securityContext: { ...restrictedPodSecurity(SERVER_UID), ...(securityContext ?? {}) },
    containers: Lazy.any({
      produce: () =>
        account()
          ? allContainers.map((c) =>
              c.name === AGENT_CONTAINER
                ? { ...c, volumeMounts: [...(c.volumeMounts ?? []), tokenMount] }
                : c,
            )
          : allContainers,
    }),
    ...(initContainers ? { initContainers: initContainers.map((c: Json) => hardenContainer(c)) } : {}),
    volumes: Lazy.any({ produce: () => (account() ? [...volumes, tokenVolume] : volumes).sort(byName) }),
  };
  return { pod, claims };
}

/**
 * A StatefulSet spec whose pod and claim templates are Seldon's (a ServerConfig's merged with
 * the Server's overrides): open JSON, passed through as written, where the typed class would
 * re-serialize them and drop what it does not model.
 */
type ServerStatefulSetSpec = Omit<k8s.StatefulSetSpec, 'template' | 'volumeClaimTemplates'> & {
  readonly template: { readonly metadata: k8s.ObjectMeta; readonly spec: Json };
  readonly volumeClaimTemplates?: Json[];
};

/** Creates the server's runtime objects as children of the Server (construct id `Runtime`). */
export function addServerWorkloads(server: WorkloadServer, settings: ServerRuntimeSettings): void {
  const view = server.workloadView;
  const name = view.name;
  const selector = { ...selectorLabels('server', settings.instance), [SERVER_NAME_LABEL]: name };
  const labels = { ...podLabels('server', settings.instance), [SERVER_NAME_LABEL]: name };
  const built = serverPod(server, settings, selector);
  if (!built) return;
  const { pod, claims } = built;
  const retention = view.pvcRetention;
  const scope = new Construct(server, 'Runtime');
  const spec: ServerStatefulSetSpec = {
    // An autoscaled server's size belongs to the scheduler: GitOps must not reset it.
    ...(view.autoscaled ? {} : { replicas: view.replicas ?? 1 }),
    serviceName: name,
    podManagementPolicy: 'Parallel',
    selector: { matchLabels: selector },
    template: { metadata: { labels }, spec: pod },
    ...(claims.length ? { volumeClaimTemplates: claims } : {}),
    ...(retention && claims.length
      ? {
          persistentVolumeClaimRetentionPolicy: {
            ...(retention.whenDeleted ? { whenDeleted: retention.whenDeleted } : {}),
            ...(retention.whenScaled ? { whenScaled: retention.whenScaled } : {}),
          },
        }
      : {}),
  };
  new ApiObject(scope, 'StatefulSet', { ...k8s.KubeStatefulSet.GVK, metadata: { name, labels }, spec });
  service(
    scope,
    'Service',
    name,
    selector,
    [
      { name: 'agent-http', port: PORTS.agentHttp },
      { name: 'agent-grpc', port: PORTS.agentGrpc, appProtocol: 'kubernetes.io/h2c' },
    ],
    { headless: true, labels },
  );
  disruptionBudget(scope, 'DisruptionBudget', name, selector);
  serverNetworkPolicy(scope, name, selector, settings.instance);
}

/**
 * A ServerConfig's own `agent` container (Seldon's agent) contributes only what ours reads:
 * its environment and resources, not its image, ports or probes.
 */
function withoutSeldonAgentFields(agent: Json, override: Json | undefined): Json {
  const kept: Json = { name: AGENT_CONTAINER };
  if (agent.env) kept.env = agent.env;
  if (agent.resources) kept.resources = agent.resources;
  return override ? mergeContainer(kept, override) : kept;
}

/** The agent's local disk: an emptyDir model cache counts against it, on top of /tmp and logs. */
function agentEphemeralLimit(cache: ModelCacheSettings): string {
  if (cache.persistent) return '1Gi';
  return formatBytes((parseQuantity(cache.size) ?? 0) + 1024 ** 3);
}
