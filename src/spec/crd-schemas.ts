/**
 * Our own CustomResourceDefinitions for the five `mlops.seldon.io/v1alpha1` kinds, as plain data
 * (the constructs emit them, the review tools check objects against them).
 *
 * They are schema-compatible with the upstream ones (same group, names, short names, scope,
 * subresources and printer columns; the spec and status fields accept the same values) so a
 * cluster can run either. Deep Kubernetes structures inside Server/ServerConfig pod specs are
 * declared by their top-level keys and left open below that level.
 */
import { ARGOCD_SYNC_WAVE_ANNOTATION, FOUNDATION_SYNC_WAVE } from './annotations.ts';
import type { MlopsKind } from './types.ts';
import { API_GROUP } from './types.ts';

type Schema = Record<string, unknown>;

const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

const str = (description?: string): Schema => ({ type: 'string', ...(description ? { description } : {}) });
const bool = (description?: string): Schema => ({
  type: 'boolean',
  ...(description ? { description } : {}),
});
const int32 = (description?: string): Schema => ({
  type: 'integer',
  format: 'int32',
  ...(description ? { description } : {}),
});
const int64 = (description?: string): Schema => ({
  type: 'integer',
  format: 'int64',
  ...(description ? { description } : {}),
});
const strings = (description?: string): Schema => ({ type: 'array', items: str(), ...desc(description) });
const stringMap = (description?: string): Schema => ({
  type: 'object',
  additionalProperties: str(),
  ...desc(description),
});
const intOrString = (): Schema => ({
  anyOf: [{ type: 'integer' }, { type: 'string' }],
  'x-kubernetes-int-or-string': true,
});
const quantity = (description?: string): Schema => ({
  ...intOrString(),
  pattern: QUANTITY_PATTERN,
  ...desc(description),
});
/** A nested Kubernetes structure we do not re-declare field by field. */
const open = (description?: string): Schema => ({
  type: 'object',
  'x-kubernetes-preserve-unknown-fields': true,
  ...desc(description),
});
const openList = (description?: string): Schema => ({ type: 'array', items: open(), ...desc(description) });
const object = (properties: Record<string, Schema>, required?: string[], description?: string): Schema => ({
  type: 'object',
  properties,
  ...(required?.length ? { required } : {}),
  ...desc(description),
});
const joinType = (withDefault: boolean): Schema => ({
  type: 'string',
  enum: ['inner', 'outer', 'any'],
  ...(withDefault ? { default: 'inner' } : {}),
  description: 'How several sources are combined: inner, outer or any.',
});

function desc(description?: string): Schema {
  return description ? { description } : {};
}

const container = (): Schema =>
  object(
    {
      args: strings(),
      command: strings(),
      env: {
        type: 'array',
        items: object({ name: str(), value: str(), valueFrom: open() }, ['name']),
        'x-kubernetes-list-map-keys': ['name'],
        'x-kubernetes-list-type': 'map',
      },
      envFrom: openList(),
      image: str(),
      imagePullPolicy: str(),
      lifecycle: open(),
      livenessProbe: open(),
      name: str('Container name, unique within the pod.'),
      ports: openList(),
      readinessProbe: open(),
      resizePolicy: openList(),
      resources: object({
        claims: openList(),
        limits: { type: 'object', additionalProperties: quantity() },
        requests: { type: 'object', additionalProperties: quantity() },
      }),
      restartPolicy: str(),
      securityContext: open(),
      startupProbe: open(),
      stdin: bool(),
      stdinOnce: bool(),
      terminationMessagePath: str(),
      terminationMessagePolicy: str(),
      tty: bool(),
      volumeDevices: openList(),
      volumeMounts: openList(),
      workingDir: str(),
    },
    ['name'],
  );

const containers = (description: string): Schema => ({ type: 'array', items: container(), description });

/** Pod spec fields common to the Server override and the full ServerConfig pod spec. */
function podSpecFields(): Record<string, Schema> {
  return {
    activeDeadlineSeconds: int64(),
    affinity: open(),
    automountServiceAccountToken: bool(),
    containers: containers('Containers; merged by name over the server configuration.'),
    dnsConfig: open(),
    dnsPolicy: str(),
    enableServiceLinks: bool(),
    hostAliases: openList(),
    hostIPC: bool(),
    hostNetwork: bool(),
    hostPID: bool(),
    hostname: str(),
    imagePullSecrets: openList(),
    initContainers: containers('Init containers.'),
    nodeName: str(),
    nodeSelector: stringMap(),
    overhead: { type: 'object', additionalProperties: quantity() },
    preemptionPolicy: str(),
    priority: int32(),
    priorityClassName: str(),
    readinessGates: openList(),
    restartPolicy: str(),
    runtimeClassName: str(),
    schedulerName: str(),
    securityContext: open(),
    serviceAccountName: str(),
    setHostnameAsFQDN: bool(),
    shareProcessNamespace: bool(),
    subdomain: str(),
    terminationGracePeriodSeconds: int64(),
    tolerations: openList(),
    topologySpreadConstraints: openList(),
    volumes: openList(),
  };
}

/** Knative-style status shared by every kind that reports conditions. */
function duckStatusFields(): Record<string, Schema> {
  return {
    annotations: stringMap('Extra status information from the controller.'),
    conditions: {
      type: 'array',
      description: 'Latest observations of the resource state.',
      items: object(
        {
          lastTransitionTime: str(),
          message: str(),
          reason: str(),
          severity: str(),
          status: str('True, False or Unknown.'),
          type: str(),
        },
        ['status', 'type'],
      ),
    },
    observedGeneration: int64('Generation last processed by the controller.'),
  };
}

function scalingFields(what: string): Record<string, Schema> {
  return {
    replicas: int32(`Desired ${what} replicas (1 when unset).`),
    minReplicas: int32(`Lower bound of ${what} replicas (0 when unset).`),
    maxReplicas: int32(`Upper bound of ${what} replicas (0 when unset: no bound).`),
  };
}

const modelRefs = () => ({ modelRef: str('Name of a Model.'), pipelineRef: str('Name of a Pipeline.') });

function modelSpec(): Schema {
  return object(
    {
      artifactVersion: int32('Version folder to pick inside the artifact.'),
      dataflow: object({ cleanTopicsOnDelete: bool('Delete the Kafka topics on delete.') }),
      dedicated: bool('Server exclusive to this model.'),
      explainer: object({ type: str('Explainer type.'), ...modelRefs() }),
      llm: object(modelRefs()),
      logger: object({ percent: { type: 'integer', description: 'Share of payloads to log.' } }),
      memory: quantity('Memory one model instance needs.'),
      modelType: str('Model type, added to the requirements.'),
      parameters: {
        type: 'array',
        description: 'Extra parameters passed when loading.',
        items: object({ name: str(), value: str() }, ['name', 'value']),
      },
      preloaded: bool('Model already loaded on a server.'),
      requirements: strings('Capabilities a server must advertise to host the model.'),
      schemaUri: str('Where the model schema is.'),
      secretName: str('Secret holding the storage credentials.'),
      server: str('Server the model is pinned to.'),
      storageUri: str('Where the model artifact is.'),
      ...scalingFields('model'),
    },
    ['storageUri'],
    'Desired state of a Model.',
  );
}

function serverSpec(): Schema {
  return object(
    {
      capabilities: strings('Capabilities advertised, replacing those of the server configuration.'),
      deploymentStrategy: object({
        rollingUpdate: object({ maxSurge: intOrString(), maxUnavailable: intOrString() }),
        type: str('Recreate or RollingUpdate.'),
      }),
      disableAutoUpdate: bool('Do not roll out changes of the server configuration.'),
      extraCapabilities: strings('Capabilities added to those of the server configuration.'),
      imageOverrides: object({ agent: container(), rclone: container() }),
      podSpec: object(podSpecFields(), undefined, 'Pod spec merged over the server configuration.'),
      serverConfig: str('Name of the ServerConfig.'),
      statefulSetPersistentVolumeClaimRetentionPolicy: object({ whenDeleted: str(), whenScaled: str() }),
      ...scalingFields('server'),
    },
    ['serverConfig'],
    'Desired state of a Server.',
  );
}

function serverConfigSpec(): Schema {
  const podSpec = {
    ...podSpecFields(),
    ephemeralContainers: openList(),
    hostUsers: bool(),
    os: open(),
    resourceClaims: openList(),
    resources: open(),
    schedulingGates: openList(),
    serviceAccount: str(),
  };
  return object(
    {
      podSpec: object(podSpec, ['containers'], 'Pod template of the servers using this configuration.'),
      volumeClaimTemplates: {
        type: 'array',
        items: object({ name: str(), spec: open() }, ['name', 'spec']),
      },
    },
    ['podSpec'],
    'Pod template shared by servers.',
  );
}

function pipelineSpec(): Schema {
  const tensorMap = () => stringMap('Tensor reference to new tensor name.');
  return object(
    {
      allowCycles: bool('Allow cycles between steps.'),
      dataflow: object({ cleanTopicsOnDelete: bool('Delete the Kafka topics on delete.') }),
      input: object({
        externalInputs: strings('Sources in other pipelines.'),
        externalTriggers: strings('Triggers in other pipelines.'),
        joinType: joinType(true),
        joinWindowMs: int32('Join window in milliseconds.'),
        tensorMap: tensorMap(),
        triggersJoinType: joinType(true),
      }),
      maxStepRevisits: int32('How often a message may revisit a step when cycles are allowed.'),
      output: object({
        joinWindowMs: int32('Join window in milliseconds.'),
        steps: strings('References written to the pipeline outputs.'),
        stepsJoin: joinType(true),
        tensorMap: tensorMap(),
      }),
      steps: {
        type: 'array',
        description: 'Steps; each is named after a Model.',
        items: object(
          {
            batch: object({ rolling: bool(), size: int32(), windowMs: int32() }),
            inputs: strings('References feeding the step.'),
            inputsJoinType: joinType(true),
            joinWindowMs: int32('Join window in milliseconds.'),
            name: str('Model name.'),
            tensorMap: tensorMap(),
            triggers: strings('References that must produce data before the step runs.'),
            triggersJoinType: joinType(false),
          },
          ['name'],
        ),
      },
    },
    ['steps'],
    'Desired state of a Pipeline.',
  );
}

function experimentSpec(): Schema {
  return object(
    {
      candidates: {
        type: 'array',
        items: object({ name: str(), weight: int32() }, ['name', 'weight']),
      },
      default: str('Candidate whose own endpoint receives the split.'),
      mirror: object({ name: str(), percent: int32() }, ['name', 'percent']),
      resourceType: str('model or pipeline.'),
    },
    ['candidates'],
    'Desired state of an Experiment.',
  );
}

interface KindInfo {
  kind: MlopsKind;
  plural: string;
  shortName: string;
  spec: () => Schema;
  status: () => Schema;
  scale: boolean;
  columns: Schema[];
}

const ageColumn = { jsonPath: '.metadata.creationTimestamp', name: 'Age', type: 'date' };
const conditionColumn = (name: string, type: string, quote: '"' | "'", extra: Schema = {}): Schema => ({
  jsonPath: `.status.conditions[?(@.type==${quote}${type}${quote})].status`,
  name,
  type: 'string',
  ...extra,
});
const messageColumn = {
  description: 'Status message',
  jsonPath: ".status.conditions[?(@.type=='Ready')].message",
  name: 'Message',
  type: 'string',
};

const KINDS: KindInfo[] = [
  {
    kind: 'Model',
    plural: 'models',
    shortName: 'mlm',
    spec: modelSpec,
    status: () =>
      object({
        ...duckStatusFields(),
        availableReplicas: int32('Replicas ready for inference.'),
        modelgwReady: str('Model gateway state.'),
        replicas: int32('Replicas targeted.'),
        selector: str(),
      }),
    scale: true,
    columns: [
      conditionColumn('Ready', 'ModelReady', '"', { description: 'Whether the model is ready' }),
      {
        description: 'Desired replicas',
        jsonPath: '.spec.replicas',
        name: 'Desired Replicas',
        type: 'integer',
      },
      {
        description: 'Replicas ready for inference',
        jsonPath: '.status.availableReplicas',
        name: 'Available Replicas',
        type: 'integer',
      },
      {
        description: 'Model gateway state',
        jsonPath: '.status.modelgwReady',
        name: 'ModelGw Ready',
        type: 'string',
      },
      ageColumn,
    ],
  },
  {
    kind: 'Server',
    plural: 'servers',
    shortName: 'mls',
    spec: serverSpec,
    status: () =>
      object(
        {
          ...duckStatusFields(),
          loadedModels: int32('Model replicas loaded.'),
          replicas: int32('Server replicas.'),
          selector: str(),
        },
        ['loadedModels', 'replicas', 'selector'],
      ),
    scale: true,
    columns: [
      conditionColumn('Ready', 'Ready', '"', { description: 'Whether the server is ready' }),
      { description: 'Server replicas', jsonPath: '.status.replicas', name: 'Replicas', type: 'integer' },
      {
        description: 'Model replicas loaded',
        jsonPath: '.status.loadedModels',
        name: 'Loaded Models',
        type: 'integer',
      },
      ageColumn,
    ],
  },
  {
    kind: 'ServerConfig',
    plural: 'serverconfigs',
    shortName: 'mlc',
    spec: serverConfigSpec,
    status: () => ({ type: 'object', description: 'ServerConfig has no observed state.' }),
    scale: false,
    columns: [],
  },
  {
    kind: 'Pipeline',
    plural: 'pipelines',
    shortName: 'mlp',
    spec: pipelineSpec,
    status: () => object(duckStatusFields()),
    scale: false,
    columns: [
      conditionColumn('Pipeline ready', 'Ready', "'", { description: 'Whether the pipeline is ready' }),
      conditionColumn('Models ready', 'ModelsReady', "'", {
        description: 'Whether its models are ready',
        priority: 1,
      }),
      conditionColumn('PipelineGw ready', 'PipelineGwReady', "'", {
        description: 'Whether the pipeline gateway is ready',
        priority: 1,
      }),
      conditionColumn('Dataflow ready', 'PipelineReady', "'", {
        description: 'Whether the dataflow is ready',
        priority: 1,
      }),
      messageColumn,
      ageColumn,
    ],
  },
  {
    kind: 'Experiment',
    plural: 'experiments',
    shortName: 'mlx',
    spec: experimentSpec,
    status: () => object(duckStatusFields()),
    scale: false,
    columns: [
      conditionColumn('Experiment ready', 'ExperimentReady', "'", {
        description: 'Whether the experiment is ready',
      }),
      conditionColumn('Candidates ready', 'CandidatesReady', "'", {
        description: 'Whether its candidates are ready',
        priority: 1,
      }),
      conditionColumn('Mirror ready', 'MirrorReady', "'", {
        description: 'Whether its mirror is ready',
        priority: 1,
      }),
      messageColumn,
      ageColumn,
    ],
  },
];

function crdFor(info: KindInfo): Record<string, unknown> {
  const openAPIV3Schema = object(
    {
      apiVersion: str('Versioned schema of this object.'),
      kind: str('Kind of this object.'),
      metadata: { type: 'object' },
      spec: info.spec(),
      status: info.status(),
    },
    undefined,
    `${info.kind} of ${API_GROUP}.`,
  );
  const version: Record<string, unknown> = {
    name: 'v1alpha1',
    served: true,
    storage: true,
    schema: { openAPIV3Schema },
    subresources: info.scale
      ? {
          scale: {
            labelSelectorPath: '.status.selector',
            specReplicasPath: '.spec.replicas',
            statusReplicasPath: '.status.replicas',
          },
          status: {},
        }
      : { status: {} },
  };
  if (info.columns.length) version.additionalPrinterColumns = info.columns;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${info.plural}.${API_GROUP}`,
      annotations: { [ARGOCD_SYNC_WAVE_ANNOTATION]: FOUNDATION_SYNC_WAVE },
    },
    spec: {
      group: API_GROUP,
      names: {
        kind: info.kind,
        listKind: `${info.kind}List`,
        plural: info.plural,
        shortNames: [info.shortName],
        singular: info.kind.toLowerCase(),
      },
      scope: 'Namespaced',
      versions: [version],
    },
  };
}

/** The five CustomResourceDefinition objects, in a stable order. */
export function customResourceDefinitions(): Record<string, unknown>[] {
  return KINDS.map(crdFor);
}

/** The `openAPIV3Schema` of one kind's CRD. */
export function openApiSchemaFor(kind: MlopsKind): Schema {
  const info = KINDS.find((k) => k.kind === kind);
  if (!info) throw new Error(`unknown kind ${kind}`);
  const crd = crdFor(info) as { spec: { versions: { schema: { openAPIV3Schema: Schema } }[] } };
  return crd.spec.versions[0].schema.openAPIV3Schema;
}

/**
 * The schema as a strict JSON schema: every object that declares `properties` and does not
 * preserve unknown fields rejects undeclared ones, like the API server's pruning made visible.
 */
export function strictSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strictSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties') {
      out[key] = Object.fromEntries(Object.entries(value as Schema).map(([k, v]) => [k, strictSchema(v)]));
    } else if (key === 'items' || key === 'additionalProperties' || key === 'anyOf') {
      out[key] = strictSchema(value);
    } else {
      out[key] = value;
    }
  }
  const closable = 'properties' in out && out['x-kubernetes-preserve-unknown-fields'] !== true;
  if (closable && !('additionalProperties' in out)) out.additionalProperties = false;
  return out;
}
