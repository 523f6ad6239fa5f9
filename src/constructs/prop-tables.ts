/** The kind of every construct prop, for the run-time checks of `prop-types.ts`. */
import type { PropTable } from './prop-types.ts';

const SCALING: PropTable = { replicas: 'number', minReplicas: 'number', maxReplicas: 'number' };
const TENSORS: PropTable = { inputs: 'strings', outputs: 'strings' };
const TENSOR_MAP = { each: 'object' } as const;
const SECRET_KEY: PropTable[string] = { fields: { name: 'string', key: 'string' }, required: ['name'] };

export const MODEL_PROPS: PropTable = {
  name: 'string',
  storageUri: 'string',
  artifactVersion: 'number',
  modelType: 'string',
  schemaUri: 'string',
  secret: { fields: { name: 'string' } },
  requirements: 'strings',
  memory: 'memory',
  ...SCALING,
  server: 'resource',
  preloaded: 'boolean',
  dedicated: 'boolean',
  logger: { fields: { percent: 'number' } },
  explainer: { fields: { type: 'string', target: 'resource' } },
  llm: { fields: { target: 'resource' } },
  parameters: 'string map',
  cleanTopicsOnDelete: 'boolean',
  tensors: { fields: TENSORS },
};

export const SERVER_PROPS: PropTable = {
  name: 'string',
  serverConfig: { fields: { name: 'string' } },
  capabilities: 'strings',
  extraCapabilities: 'strings',
  memory: 'memory',
  memoryLimit: 'memory',
  cpu: 'number or string',
  cpuLimit: 'number or string',
  nodeSelector: 'string map',
  tolerations: { each: 'object' },
  affinity: 'object',
  overCommitPercentage: 'number',
  podSpec: 'object',
  imageOverrides: { fields: { agent: 'object', rclone: 'object' } },
  ...SCALING,
  pvcRetention: { fields: { whenDeleted: 'string', whenScaled: 'string' } },
  deploymentStrategy: {
    fields: { type: 'string', maxSurge: 'number or string', maxUnavailable: 'number or string' },
  },
  disableAutoUpdate: 'boolean',
};

export const SERVER_CONFIG_PROPS: PropTable = {
  name: 'string',
  podSpec: 'object',
  hardenPodSpec: 'boolean',
  acceptPolicy: 'object',
  volumeClaimTemplates: { each: 'object' },
  capabilities: 'strings',
  inferenceContainer: 'string',
};

const STEP_OPTIONS: PropTable = {
  inputs: 'list',
  triggers: 'list',
  tensorMap: TENSOR_MAP,
  inputsJoinType: 'string',
  triggersJoinType: 'string',
  joinWindowMs: 'number',
  batch: { fields: { size: 'number', windowMs: 'number', rolling: 'boolean' } },
};

export const PIPELINE_PROPS: PropTable = {
  name: 'string',
  steps: { each: { fields: { model: 'resource', ...STEP_OPTIONS }, required: ['model'] } },
  input: {
    fields: {
      externalInputs: 'list',
      externalTriggers: 'list',
      joinType: 'string',
      triggersJoinType: 'string',
      joinWindowMs: 'number',
      tensorMap: TENSOR_MAP,
    },
  },
  output: { fields: { steps: 'list', stepsJoin: 'string', joinWindowMs: 'number', tensorMap: TENSOR_MAP } },
  allowCycles: 'boolean',
  maxStepRevisits: 'number',
  cleanTopicsOnDelete: 'boolean',
  inputTensors: 'strings',
  tensors: { fields: TENSORS },
};

export const EXPERIMENT_PROPS: PropTable = {
  name: 'string',
  candidates: { each: { fields: { target: 'resource', weight: 'number' }, required: ['target'] } },
  default: 'resource',
  mirror: { fields: { target: 'resource', percent: 'number' }, required: ['target'] },
};

export const ENVIRONMENT_PROPS: PropTable = {
  namespace: 'string',
  labels: 'string map',
  kafkaTopicPrefix: 'string',
  createNamespace: 'boolean',
};

export const RUNTIME_PROPS: PropTable = {
  name: 'string',
  image: 'string',
  imagePullPolicy: 'string',
  kafka: {
    fields: {
      bootstrapServers: 'strings',
      topicPrefix: 'string',
      partitions: 'number',
      replicationFactor: 'number',
      strimziTopics: { fields: { clusterName: 'string' } },
      tls: { fields: { caSecret: SECRET_KEY, clientCertSecret: SECRET_KEY, clientKeySecret: SECRET_KEY } },
      sasl: { fields: { mechanism: 'string', username: 'string', passwordSecret: SECRET_KEY } },
    },
  },
  gateway: {
    fields: { ...SCALING, targetCpuUtilization: 'number', resources: 'object' },
  },
  schedulerReplicas: 'number',
  schedulerResources: 'object',
  dataflow: { fields: { replicas: 'number', resources: 'object' } },
  agentResources: 'object',
  modelCache: { fields: { size: 'string', persistent: 'boolean', storageClassName: 'string' } },
  storageSecrets: 'strings',
  monitoring: {
    fields: {
      podMonitors: 'boolean',
      monitorLabels: 'string map',
      scrapeInterval: 'string',
      prometheusNamespace: 'string',
      dashboard: 'boolean',
      dashboardLabels: 'string map',
    },
  },
  tracing: { fields: { endpoint: 'string', ratio: 'number' } },
};
