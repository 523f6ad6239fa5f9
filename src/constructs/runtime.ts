/**
 * The runtime of one namespace as Kubernetes workloads: scheduler (with least-privilege RBAC),
 * gateway, dataflow engine with its Kafka settings, NetworkPolicies and disruption budgets; and,
 * for every Server of the namespace, its StatefulSet and Services.
 */
import { createHash } from 'node:crypto';
import { Construct } from 'constructs';
import { PORTS } from '../spec/ports.ts';
import { DEFAULT_NAMING } from '../spec/topics.ts';
import { checkCount } from './checks.ts';
import { Environment } from './environment.ts';
import {
  type KafkaSaslSettings,
  type KafkaTlsSettings,
  kafkaSecurityFindings,
  kafkaSecurityPod,
} from './kafka-security.ts';
import { addRuntimeMonitoring, type MonitoringSettings } from './monitoring/runtime-monitoring.ts';
import { dnsLabelProblem, dnsSubdomainProblem, suggestDnsLabel } from './names.ts';
import { Pipeline } from './pipeline.ts';
import { RUNTIME_PROPS } from './prop-tables.ts';
import { checkProps, reportProps } from './prop-types.ts';
import { memoryProblem } from './quantity.ts';
import { namespaceOf } from './resource.ts';
import { checkTracing, type TracingSettings, tracingEnv, tracingPolicy } from './tracing.ts';
import { addProblem, addRule } from './validation.ts';
import {
  agentSecretAccess,
  type ComponentContext,
  dataflowObjects,
  gatewayObjects,
  schedulerObjects,
} from './workloads/components.ts';
import { DEFAULT_RUNTIME_IMAGE, imagePinProblem } from './workloads/images.ts';
import { KafkaTopics } from './workloads/kafka-topics.ts';
import { baselinePolicies } from './workloads/network.ts';
import { chartOf, registerRuntime } from './workloads/registry.ts';
import { addServerWorkloads, type ServerRuntimeSettings } from './workloads/server-workloads.ts';
import { configMap, type ResourceSettings } from './workloads/workload.ts';

export type { KafkaSaslSettings, KafkaTlsSettings, SecretKeySelector } from './kafka-security.ts';
export type { MonitoringSettings } from './monitoring/runtime-monitoring.ts';
export type { TracingSettings } from './tracing.ts';
export type { ResourceSettings } from './workloads/workload.ts';

/** Strimzi `KafkaTopic` objects for the topics the dataflow engine uses. */
export interface StrimziTopics {
  /** Name of the Strimzi `Kafka` cluster (the `strimzi.io/cluster` label). */
  readonly clusterName: string;
}

export interface KafkaSettings {
  /** Bootstrap servers, `host:port` (port 9092 when left out). */
  readonly bootstrapServers: string[];
  /**
   * Prefix of every topic.
   * @default - the environment's `kafkaTopicPrefix` ('seldon')
   */
  readonly topicPrefix?: string;
  /**
   * Partitions of the topics the runtime creates.
   * @default 1
   */
  readonly partitions?: number;
  /**
   * Replication factor of the topics the runtime creates (use 3 in production).
   * @default 1
   */
  readonly replicationFactor?: number;
  /**
   * Declare the topics as Strimzi `KafkaTopic` objects (needs the Strimzi operator).
   * @default - none: the dataflow engine creates the topics it needs
   */
  readonly strimziTopics?: StrimziTopics;
  /**
   * TLS to the brokers (SSL, or SASL_SSL with `sasl`): the CA and client certificate come from
   * Secrets mounted into the dataflow pods.
   * @default - plaintext connections
   */
  readonly tls?: KafkaTlsSettings;
  /**
   * SASL authentication, the password from a Secret mounted into the dataflow pods.
   * @default - no authentication
   */
  readonly sasl?: KafkaSaslSettings;
}

export interface GatewaySettings {
  /**
   * A fixed number of gateway pods, without an autoscaler; it excludes `minReplicas` and
   * `maxReplicas`.
   * @default - autoscaled between `minReplicas` and `maxReplicas`
   */
  readonly replicas?: number;
  /**
   * Fewest pods of the autoscaled gateway.
   * @default 1
   */
  readonly minReplicas?: number;
  /**
   * Most pods of the autoscaled gateway.
   * @default 3
   */
  readonly maxReplicas?: number;
  /**
   * CPU use (percent of the request) the autoscaler aims for.
   * @default 70
   */
  readonly targetCpuUtilization?: number;
  /**
   * CPU and memory of each pod.
   * @default - requests 250m / 256Mi, limits 2 / 512Mi
   */
  readonly resources?: ResourceSettings;
}

export interface ModelCacheProps {
  /**
   * Size of each server pod's model cache (downloaded artifacts and the model repository).
   * @default '10Gi'
   */
  readonly size?: string;
  /**
   * A PersistentVolumeClaim per server pod, so a restarted pod keeps its artifacts.
   * @default false - an emptyDir: pods start anywhere at once and re-download after a restart
   */
  readonly persistent?: boolean;
  /**
   * Storage class of persistent caches.
   * @default - the cluster's default storage class
   */
  readonly storageClassName?: string;
}

export interface RuntimeProps {
  /**
   * Prefix of the runtime's object names (`<name>-scheduler`, `<name>-gateway`, ...) and its
   * `app.kubernetes.io/instance` label.
   * @default 'mlops'
   */
  readonly name?: string;
  /**
   * The runtime image (built from this package's Dockerfile). It must be pinned: a tag other than
   * `latest`, or a digest.
   * @default - `ghcr.io/cdk8s-mlops/mlops-runtime:<this package's version>`
   */
  readonly image?: string;
  /**
   * Image pull policy of the runtime containers.
   * @default 'IfNotPresent'
   */
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /**
   * Kafka, for pipelines. Without it no dataflow engine is deployed, and Pipelines are an error.
   * @default - no dataflow engine
   */
  readonly kafka?: KafkaSettings;
  /**
   * Gateway pods and autoscaling.
   * @default - autoscaled from 1 to 3 pods at 70% CPU
   */
  readonly gateway?: GatewaySettings;
  /**
   * Scheduler pods. One leads (through a Lease) and the others stand by, taking over within
   * seconds when it is lost; 1 saves a pod but leaves placement and routing updates (not
   * inference) stopped while it restarts.
   * @default 2
   */
  readonly schedulerReplicas?: number;
  /**
   * CPU and memory of the scheduler.
   * @default - requests 100m / 256Mi, limits 1 / 512Mi
   */
  readonly schedulerResources?: ResourceSettings;
  /**
   * Dataflow engine pods and their CPU and memory.
   * @default - 1 pod; requests 250m / 512Mi, limits 2 / 1Gi
   */
  readonly dataflow?: { readonly replicas?: number; readonly resources?: ResourceSettings };
  /**
   * CPU and memory of the agent sidecar of every server pod.
   * @default - requests 100m / 256Mi, limits 1 / 512Mi
   */
  readonly agentResources?: ResourceSettings;
  /**
   * The model cache of every server pod (downloaded artifacts and the model repository).
   * @default - a 10Gi `emptyDir`
   */
  readonly modelCache?: ModelCacheProps;
  /**
   * Secrets of this namespace holding default storage remotes in Seldon's format (a key with
   * `{name, type, parameters}` of an rclone remote), used for Models without a `secret`:
   * Seldon's `agentConfig.rclone.config_secrets`. Agents get `get` on these Secrets only.
   * @default - none: `s3://` and `az://` use the workload's credentials, `gs://` reads public
   *   buckets anonymously
   */
  readonly storageSecrets?: string[];
  /**
   * Prometheus scraping (prometheus-operator PodMonitors for every component) and a Grafana
   * dashboard ConfigMap; `{}` takes the defaults.
   * @default - no monitoring objects
   */
  readonly monitoring?: MonitoringSettings;
  /**
   * OpenTelemetry traces of every hop (gateway, agents, inference calls, scheduler operations,
   * pipeline steps) sent to an OTLP/HTTP collector: Seldon's `tracingConfig`.
   * @default - no tracing
   */
  readonly tracing?: TracingSettings;
}

const rs = (cpu: string, memory: string, cpuLimit: string, memoryLimit: string): ResourceSettings => ({
  requests: { cpu, memory },
  limits: { cpu: cpuLimit, memory: memoryLimit },
});

const DEFAULTS = {
  scheduler: rs('100m', '256Mi', '1', '512Mi'),
  gateway: rs('250m', '256Mi', '2', '512Mi'),
  dataflow: rs('250m', '512Mi', '2', '1Gi'),
  agent: rs('100m', '256Mi', '1', '512Mi'),
};

/**
 * `new Runtime(env, 'runtime', { kafka: { bootstrapServers: ['kafka:9092'] } })`: one per
 * namespace. Servers of the namespace, declared before or after it, get their workloads.
 */
export class Runtime extends Construct {
  /** Prefix of the object names. */
  readonly name: string;
  readonly image: string;
  /** `host:port` of the scheduler's gRPC Service, as agents and gateways dial it. */
  readonly schedulerAddress: string;
  /** `host:port` of the gateway's REST Service. */
  readonly gatewayAddress: string;
  private readonly serverSettings: ServerRuntimeSettings;
  private readonly props: RuntimeProps;
  /** Strimzi topics, when asked for: pipelines add theirs as they (and their steps) are declared. */
  private topics?: KafkaTopics;
  /** Storage Secrets agents read: the Runtime's defaults and those Models name. */
  private readonly storageSecretNames = new Set<string>();
  /** The agents' ServiceAccount, created with the first storage Secret. */
  private agentAccount?: string;

  constructor(scope: Construct, id: string, untypedProps: RuntimeProps = {}) {
    const { props, problems } = checkProps(untypedProps, RUNTIME_PROPS);
    super(scope, id);
    reportProps(this, problems);
    this.props = props;
    this.name = props.name ?? 'mlops';
    this.image = props.image ?? DEFAULT_RUNTIME_IMAGE;
    this.check();
    const tracing = checkTracing(this, props.tracing) ? props.tracing : undefined;
    const ctx: ComponentContext = {
      env: tracingEnv(tracing),
      prefix: this.name,
      instance: this.name,
      image: this.image,
      imagePullPolicy: props.imagePullPolicy ?? 'IfNotPresent',
    };
    const namespace = namespaceOf(this) ?? 'default';
    baselinePolicies(new Construct(this, 'Network'), this.name, this.name);
    if (tracing) tracingPolicy(new Construct(this, 'Tracing'), this.name, this.name, tracing);
    this.schedulerAddress = schedulerObjects(
      new Construct(this, 'Scheduler'),
      ctx,
      props.schedulerResources ?? DEFAULTS.scheduler,
      props.schedulerReplicas ?? 2,
    );
    const kafka = props.kafka;
    let pipelineGateway: string | undefined;
    const gatewayScope = new Construct(this, 'Gateway');
    const gatewayGrpc = `${this.name}-gateway:${PORTS.gatewayGrpc}`;
    if (kafka) pipelineGateway = this.addDataflow(ctx, kafka, namespace, gatewayGrpc);
    const g = props.gateway ?? {};
    gatewayObjects(
      gatewayScope,
      ctx,
      g.resources ?? DEFAULTS.gateway,
      {
        replicas: g.replicas,
        minReplicas: g.minReplicas ?? 1,
        maxReplicas: g.maxReplicas ?? 3,
        targetCpuUtilization: g.targetCpuUtilization ?? 70,
      },
      this.schedulerAddress,
      pipelineGateway,
    );
    this.gatewayAddress = `${this.name}-gateway:${PORTS.gatewayHttp}`;
    if (props.monitoring) addRuntimeMonitoring(this, this.name, props.monitoring, { dataflow: !!kafka });
    const cache = props.modelCache ?? {};
    this.serverSettings = {
      instance: this.name,
      image: this.image,
      imagePullPolicy: ctx.imagePullPolicy,
      schedulerAddress: this.schedulerAddress,
      agentResources: props.agentResources ?? DEFAULTS.agent,
      gatewayAddress: this.gatewayAddress,
      storageSecrets: props.storageSecrets,
      env: ctx.env,
      agentAccount: () => this.agentAccount,
      modelCache: {
        size: cache.size ?? '10Gi',
        persistent: cache.persistent ?? false,
        storageClassName: cache.storageClassName,
      },
    };
    const chart = chartOf(this);
    if (!chart) {
      addProblem(this, {
        field: '(scope)',
        message: 'a Runtime must be inside an Environment (or a cdk8s Chart): it serves one namespace',
        fix: 'create it with `new Runtime(env, "runtime", {...})`',
      });
    } else if (
      !registerRuntime(chart, {
        attachServer: (s) => addServerWorkloads(s, this.serverSettings),
        attachPipeline: (p) => this.topics?.addPipeline(p),
        attachStorageSecret: (name) => this.addStorageSecret(name),
      })
    ) {
      addProblem(this, {
        field: '(scope)',
        message: `namespace "${namespace}" already has a Runtime; one runtime serves a whole namespace`,
        fix: 'remove this Runtime, or put it in an Environment of another namespace',
      });
    }
    for (const secret of props.storageSecrets ?? []) this.addStorageSecret(secret);
  }

  /**
   * Lets the namespace's agents read one more storage Secret: their ServiceAccount and a Role
   * with `get` on exactly the Secrets named (created with the first one).
   */
  private addStorageSecret(name: string): void {
    this.storageSecretNames.add(name);
    if (this.agentAccount) return;
    this.agentAccount = `${this.name}-agent`;
    agentSecretAccess(new Construct(this, 'AgentAccess'), this.agentAccount, () =>
      [...this.storageSecretNames].sort(),
    );
  }

  /** Every Pipeline of this runtime's namespace (they need the Kafka settings). */
  private pipelines(): Record<string, unknown>[] {
    const chart = chartOf(this);
    if (!chart) return [];
    return chart.node
      .findAll()
      .filter((c): c is Pipeline => c instanceof Pipeline)
      .map((p) => p.apiObject.toJson() as Record<string, unknown>)
      .sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0));
  }

  private addDataflow(
    ctx: ComponentContext,
    kafka: KafkaSettings,
    namespace: string,
    inference: string,
  ): string {
    const scope = new Construct(this, 'Dataflow');
    const prefix = kafka.topicPrefix ?? Environment.find(this)?.kafkaTopicPrefix ?? DEFAULT_NAMING.prefix;
    const security = kafkaSecurityPod(kafka);
    const kafkaData = {
      MLOPS_KAFKA_BROKERS: (kafka.bootstrapServers ?? []).join(','),
      MLOPS_KAFKA_PARTITIONS: String(kafka.partitions ?? 1),
      MLOPS_KAFKA_REPLICATION_FACTOR: String(kafka.replicationFactor ?? 1),
      MLOPS_KAFKA_TOPIC_PREFIX: prefix,
      ...security.env,
    };
    const kafkaConfigMap = `${this.name}-kafka`;
    configMap(scope, 'KafkaSettings', kafkaConfigMap, kafkaData);
    const address = dataflowObjects(scope, ctx, {
      replicas: this.props.dataflow?.replicas ?? 1,
      resources: this.props.dataflow?.resources ?? DEFAULTS.dataflow,
      namespace,
      kafkaConfigMap,
      kafkaPorts: kafkaPorts(kafka.bootstrapServers ?? []),
      kafkaSecrets: security,
      configHash: createHash('sha256').update(JSON.stringify(kafkaData)).digest('hex').slice(0, 16),
      inference,
    });
    if (kafka.strimziTopics) {
      this.topics = new KafkaTopics(scope, 'Topics', {
        clusterName: kafka.strimziTopics.clusterName,
        prefix,
        namespace,
        partitions: kafka.partitions ?? 1,
        replicas: kafka.replicationFactor ?? 1,
      });
    }
    return address;
  }

  private check(): void {
    const p = this.props;
    // The longest object name is `<name>-default-deny`.
    const problem = dnsLabelProblem(`${this.name}-default-deny`);
    if (problem) {
      addProblem(this, {
        field: 'name',
        value: this.name,
        message: `prefixes the runtime's object names, and "${this.name}-default-deny" ${problem}`,
        fix: `use a short DNS-1123 label, e.g. "${suggestDnsLabel(this.name).slice(0, 20) || 'mlops'}"`,
      });
    }
    const pin = imagePinProblem(this.image);
    if (pin)
      addProblem(this, {
        field: 'image',
        value: this.image,
        message: pin,
        fix: 'pin a version tag or a digest, e.g. "registry.example.com/mlops-runtime:0.1.0"',
      });
    checkCount(this, 'schedulerReplicas', p.schedulerReplicas, 1);
    const g = p.gateway ?? {};
    for (const f of ['replicas', 'minReplicas', 'maxReplicas'] as const)
      checkCount(this, `gateway.${f}`, g[f], 1);
    if (g.replicas !== undefined && (g.minReplicas !== undefined || g.maxReplicas !== undefined)) {
      addProblem(this, {
        field: 'gateway.replicas',
        value: g.replicas,
        message: 'a fixed replica count and autoscaling bounds (minReplicas/maxReplicas) exclude each other',
        fix: 'set either `replicas`, or `minReplicas` and `maxReplicas`',
      });
    }
    if ((g.minReplicas ?? 1) > (g.maxReplicas ?? 3)) {
      addProblem(this, {
        field: 'gateway.minReplicas',
        value: g.minReplicas ?? 1,
        message: `is above maxReplicas (${g.maxReplicas ?? 3})`,
        fix: 'use a minReplicas of at most maxReplicas',
      });
    }
    const cpu = g.targetCpuUtilization;
    if (cpu !== undefined && !(Number.isInteger(cpu) && cpu > 0 && cpu <= 100)) {
      addProblem(this, {
        field: 'gateway.targetCpuUtilization',
        value: cpu,
        message: 'is not a percentage',
        fix: 'use a whole number from 1 to 100',
      });
    }
    checkCount(this, 'dataflow.replicas', p.dataflow?.replicas, 1);
    (p.storageSecrets ?? []).forEach((name, i) => {
      const problem = dnsSubdomainProblem(name);
      if (problem) {
        addProblem(this, {
          field: `storageSecrets[${i}]`,
          value: name,
          message: `Secret name ${problem}`,
          fix: 'name an existing Secret of this namespace by its Kubernetes name',
        });
      }
    });
    const cacheSize = p.modelCache?.size;
    if (cacheSize !== undefined && memoryProblem(cacheSize)) {
      addProblem(this, {
        field: 'modelCache.size',
        value: cacheSize,
        message: memoryProblem(cacheSize) as string,
        fix: 'use a quantity such as 10Gi',
      });
    }
    const kafka = p.kafka;
    if (kafka) {
      const servers = kafka.bootstrapServers ?? [];
      if (servers.length === 0) {
        addProblem(this, {
          field: 'kafka.bootstrapServers',
          value: servers,
          message: 'is empty',
          fix: 'list at least one broker as host:port, e.g. "kafka-bootstrap.kafka:9092"',
        });
      }
      servers.forEach((s, i) => {
        if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(s)) {
          addProblem(this, {
            field: `kafka.bootstrapServers[${i}]`,
            value: s,
            message: 'is not host:port',
            fix: 'write it as host:port, e.g. "kafka-bootstrap.kafka:9092"',
          });
        }
      });
      checkCount(this, 'kafka.partitions', kafka.partitions, 1);
      checkCount(this, 'kafka.replicationFactor', kafka.replicationFactor, 1);
      this.checkTopicPrefix(kafka.topicPrefix);
      for (const problem of kafkaSecurityFindings(kafka)) addProblem(this, problem);
    } else {
      addRule(this, () => {
        const names = this.pipelines().map(nameOf);
        if (names.length === 0) return [];
        return [
          {
            field: 'kafka',
            message: `pipelines run over Kafka, and this namespace has ${names.length} (${names.join(', ')}) but the Runtime has no Kafka settings`,
            fix: 'set `kafka: { bootstrapServers: ["host:9092"] }`',
          },
        ];
      });
    }
  }

  /** The compiler checks topic lengths with the environment's prefix; the runtime must use the same. */
  private checkTopicPrefix(prefix: string | undefined): void {
    const env = Environment.find(this);
    if (prefix === undefined || !env?.kafkaTopicPrefixDeclared || env.kafkaTopicPrefix === prefix) return;
    addProblem(this, {
      field: 'kafka.topicPrefix',
      value: prefix,
      message: `disagrees with the Environment's kafkaTopicPrefix "${env.kafkaTopicPrefix}": topic names are checked with one prefix and created with the other`,
      fix: `set the prefix in one place: kafkaTopicPrefix on the Environment (and drop kafka.topicPrefix), or make both "${prefix}"`,
    });
  }
}

function nameOf(manifest: Record<string, unknown>): string {
  return (manifest.metadata as { name: string }).name;
}

function kafkaPorts(servers: readonly string[]): number[] {
  const ports = servers.map((s) => Number(/:(\d+)$/.exec(s)?.[1] ?? 9092));
  return [...new Set(ports)].sort((a, b) => a - b);
}
