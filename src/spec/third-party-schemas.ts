/**
 * Schemas of the custom resources of other projects that synthesis emits, as plain data, so a
 * check needs neither a cluster nor the other project's CRDs. Written from the fields each
 * resource documents, in the OpenAPI v3 form a CRD uses (closed with `strictSchema`).
 */

type Schema = Record<string, unknown>;

export interface ThirdPartySchema {
  apiVersion: string;
  kind: string;
  /** The `openAPIV3Schema` of the resource, below `apiVersion`, `kind` and `metadata`. */
  schema: Schema;
}

const int = (description: string, bounds: Schema = {}): Schema => ({
  type: 'integer',
  format: 'int32',
  description,
  ...bounds,
});

/** Strimzi's `KafkaTopic`: one topic of a Strimzi-managed Kafka cluster. */
const KAFKA_TOPIC: ThirdPartySchema = {
  apiVersion: 'kafka.strimzi.io/v1beta2',
  kind: 'KafkaTopic',
  schema: {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        description: 'The topic wanted.',
        properties: {
          topicName: {
            type: 'string',
            description: 'Name of the topic in Kafka, when it differs from the object name.',
          },
          partitions: int('Number of partitions; unset means the broker default.', { minimum: 1 }),
          replicas: int('Replicas of each partition; unset means the broker default.', {
            minimum: 1,
            maximum: 32767,
          }),
          config: {
            type: 'object',
            description: 'Topic configuration (retention.ms, cleanup.policy, ...).',
            'x-kubernetes-preserve-unknown-fields': true,
          },
        },
      },
      status: {
        type: 'object',
        description: 'Written by the topic operator.',
        'x-kubernetes-preserve-unknown-fields': true,
      },
    },
  },
};

const open = (description: string): Schema => ({
  type: 'object',
  description,
  'x-kubernetes-preserve-unknown-fields': true,
});
const str = (description: string, extra: Schema = {}): Schema => ({ type: 'string', description, ...extra });
/** Prometheus durations as the operator accepts them, e.g. `30s`, `1m30s`. */
const DURATION =
  '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$';
const LABEL_SELECTOR: Schema = {
  type: 'object',
  description: 'Pods whose labels match are scraped.',
  properties: {
    matchLabels: { type: 'object', additionalProperties: { type: 'string' } },
    matchExpressions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'operator'],
        properties: {
          key: { type: 'string' },
          operator: { type: 'string', enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] },
          values: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
};

/** prometheus-operator's `PodMonitor`: which pods Prometheus scrapes, on which ports. */
const POD_MONITOR: ThirdPartySchema = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PodMonitor',
  schema: {
    type: 'object',
    required: ['spec'],
    properties: {
      spec: {
        type: 'object',
        required: ['selector'],
        properties: {
          selector: LABEL_SELECTOR,
          namespaceSelector: {
            type: 'object',
            description: "Namespaces whose pods are considered; by default the PodMonitor's own.",
            properties: {
              any: { type: 'boolean' },
              matchNames: { type: 'array', items: { type: 'string' } },
            },
          },
          jobLabel: str('Pod label whose value becomes the job name.'),
          podTargetLabels: {
            type: 'array',
            items: { type: 'string' },
            description: 'Pod labels copied onto the series.',
          },
          sampleLimit: { type: 'integer', format: 'int64', minimum: 0 },
          targetLimit: { type: 'integer', format: 'int64', minimum: 0 },
          labelLimit: { type: 'integer', format: 'int64', minimum: 0 },
          attachMetadata: open('Node metadata added to the targets.'),
          podMetricsEndpoints: {
            type: 'array',
            description: 'The endpoints scraped on each selected pod.',
            items: {
              type: 'object',
              properties: {
                port: str('Name of the container port serving the metrics.'),
                portNumber: int('Number of the container port, when it has no name.', {
                  minimum: 1,
                  maximum: 65535,
                }),
                path: str('HTTP path of the metrics (default /metrics).'),
                scheme: str('HTTP scheme.', { enum: ['http', 'https'] }),
                params: {
                  type: 'object',
                  additionalProperties: { type: 'array', items: { type: 'string' } },
                },
                interval: str("Scrape interval (default: Prometheus's global one).", { pattern: DURATION }),
                scrapeTimeout: str('Scrape timeout.', { pattern: DURATION }),
                honorLabels: { type: 'boolean' },
                honorTimestamps: { type: 'boolean' },
                enableHttp2: { type: 'boolean' },
                followRedirects: { type: 'boolean' },
                filterRunning: { type: 'boolean' },
                proxyUrl: str('Proxy for the scrapes.'),
                relabelings: { type: 'array', items: open('A relabeling of the target.') },
                metricRelabelings: { type: 'array', items: open('A relabeling of the scraped series.') },
                tlsConfig: open('TLS settings of the scrapes.'),
                authorization: open('Authorization header of the scrapes.'),
                basicAuth: open('Basic authentication of the scrapes.'),
                bearerTokenSecret: open('Secret key holding a bearer token.'),
                oauth2: open('OAuth2 settings of the scrapes.'),
              },
            },
          },
        },
      },
    },
  },
};

export const THIRD_PARTY_SCHEMAS: readonly ThirdPartySchema[] = [KAFKA_TOPIC, POD_MONITOR];
