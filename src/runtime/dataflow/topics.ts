/** Kafka topic names as Seldon Core 2 lays them out: `<prefix>.<namespace>.<kind>.<name>.<io>`. */
export interface TopicNaming {
  prefix: string;
  namespace: string;
}

export type TopicIo = 'inputs' | 'outputs';

export const DEFAULT_NAMING: TopicNaming = { prefix: 'seldon', namespace: 'default' };

export function modelTopic(n: TopicNaming, model: string, io: TopicIo): string {
  return `${n.prefix}.${n.namespace}.model.${model}.${io}`;
}

export function pipelineTopic(n: TopicNaming, pipeline: string, io: TopicIo): string {
  return `${n.prefix}.${n.namespace}.pipeline.${pipeline}.${io}`;
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

// Kafka record headers the data plane reads or writes.
export const HEADER_PIPELINE = 'pipeline';
export const HEADER_PIPELINE_VERSION = 'x-pipeline-version';
export const HEADER_REQUEST_ID = 'x-request-id';
export const HEADER_ERRORS = 'seldon-pipeline-errors';
/** How many times each step has run for this request (only when the pipeline allows cycles). */
export const HEADER_VISITS = 'seldon-step-visits';
