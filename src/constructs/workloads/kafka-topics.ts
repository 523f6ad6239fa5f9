/**
 * Strimzi `KafkaTopic` objects for the topics the dataflow engine uses, declared as pipelines
 * and their steps are constructed (each topic once, whatever declares it first).
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { dataflowStateTopic, errorsTopic, resourceTopics } from '../../spec/topics.ts';
import type { WorkloadPipeline } from './registry.ts';

export interface KafkaTopicSettings {
  /** Name of the Strimzi `Kafka` cluster (the `strimzi.io/cluster` label). */
  readonly clusterName: string;
  readonly prefix: string;
  readonly namespace: string;
  readonly partitions: number;
  readonly replicas: number;
}

export class KafkaTopics extends Construct {
  private readonly settings: KafkaTopicSettings;

  constructor(scope: Construct, id: string, settings: KafkaTopicSettings) {
    super(scope, id);
    this.settings = settings;
    this.declare(errorsTopic(settings));
  }

  /** The topics of a pipeline and of the models its steps call. */
  addPipeline(pipeline: WorkloadPipeline): void {
    const naming = this.settings;
    const topics = [
      ...resourceTopics(naming, 'pipeline', pipeline.name),
      dataflowStateTopic(naming, pipeline.name),
      ...pipeline.steps.flatMap((s) => resourceTopics(naming, 'model', s.model.name)),
    ];
    for (const topic of topics) this.declare(topic);
  }

  private declare(topic: string): void {
    if (this.node.tryFindChild(topic)) return;
    const s = this.settings;
    new ApiObject(this, topic, {
      apiVersion: 'kafka.strimzi.io/v1beta2',
      kind: 'KafkaTopic',
      metadata: { name: topicObjectName(topic), labels: { 'strimzi.io/cluster': s.clusterName } },
      spec: { topicName: topic, partitions: s.partitions, replicas: s.replicas },
    });
  }
}

/** A KafkaTopic's object name: the topic name made a DNS-1123 subdomain (`spec.topicName` keeps it exact). */
function topicObjectName(topic: string): string {
  return topic
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .slice(0, 253);
}
