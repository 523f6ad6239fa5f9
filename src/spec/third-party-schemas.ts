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

export const THIRD_PARTY_SCHEMAS: readonly ThirdPartySchema[] = [KAFKA_TOPIC];
