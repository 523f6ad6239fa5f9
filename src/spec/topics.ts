/**
 * Kafka topic names as Seldon Core 2 lays them out, `<prefix>.<namespace>.<kind>.<name>.<io>`:
 * the constructs check their length and declare them, the dataflow engine reads and writes them,
 * and `mlops inspect` follows them.
 */

export interface TopicNaming {
  prefix: string;
  namespace: string;
}

export type TopicIo = 'inputs' | 'outputs';

export const DEFAULT_NAMING: TopicNaming = { prefix: 'seldon', namespace: 'default' };

/** Kafka rejects topic names longer than this. */
export const KAFKA_TOPIC_MAX_LENGTH = 249;

/** What every model topic of the namespace starts with. */
export function modelTopicPrefix(n: TopicNaming): string {
  return `${n.prefix}.${n.namespace}.model.`;
}

export function modelTopic(n: TopicNaming, model: string, io: TopicIo): string {
  return `${modelTopicPrefix(n)}${model}.${io}`;
}

/** The model of a model topic (names are DNS labels, so they hold no dot). */
export function modelOfTopic(topic: string): string {
  const parts = topic.split('.');
  return parts[parts.length - 2];
}

export function pipelineTopic(n: TopicNaming, pipeline: string, io: TopicIo): string {
  return `${n.prefix}.${n.namespace}.pipeline.${pipeline}.${io}`;
}

/** Both topics of a model or pipeline, inputs first. */
export function resourceTopics(n: TopicNaming, kind: 'model' | 'pipeline', name: string): string[] {
  const topic = kind === 'model' ? modelTopic : pipelineTopic;
  return [topic(n, name, 'inputs'), topic(n, name, 'outputs')];
}

export function errorsTopic(n: TopicNaming): string {
  return `${n.prefix}.${n.namespace}.errors.errors`;
}

/** Where a pipeline's engine records which joins and batches it has emitted (restored on restart). */
export function dataflowStateTopic(n: TopicNaming, pipeline: string): string {
  return `${n.prefix}.${n.namespace}.dataflow.${pipeline}.state`;
}

/** Whether records on the topic are requests (`*.inputs`) or responses (`*.outputs`). */
export function topicIo(topic: string): TopicIo {
  return topic.endsWith('.inputs') ? 'inputs' : 'outputs';
}
