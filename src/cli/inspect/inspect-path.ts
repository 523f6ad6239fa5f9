import { isDirection } from '../../spec/references.ts';
import {
  modelTopic,
  modelTopicPrefix,
  pipelineTopic,
  type TopicIo,
  type TopicNaming,
} from '../../spec/topics.ts';

/** `PIPELINE[.STEP[.inputs|outputs[.TENSOR]]]`, as `seldon pipeline inspect` takes it. */
export interface InspectPath {
  pipeline: string;
  /** A step (model) of the pipeline; undefined for the pipeline's own topics or everything. */
  step?: string;
  io?: TopicIo;
  tensor?: string;
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function parseInspectPath(arg: string): InspectPath {
  const [pipeline, second, third, ...rest] = arg.split('.');
  const fix = 'use PIPELINE, PIPELINE.inputs|outputs[.TENSOR] or PIPELINE.STEP[.inputs|outputs[.TENSOR]]';
  if (!NAME.test(pipeline ?? '')) throw new Error(`"${arg}": "${pipeline}" is not a pipeline name; ${fix}`);
  if (second === undefined) return { pipeline };
  if (isDirection(second)) {
    if (rest.length > 0) throw new Error(`"${arg}": too many parts after ${second}; ${fix}`);
    return { pipeline, io: second, tensor: third || undefined };
  }
  if (!NAME.test(second)) throw new Error(`"${arg}": "${second}" is not a step name; ${fix}`);
  if (third === undefined) return { pipeline, step: second };
  if (!isDirection(third))
    throw new Error(`"${arg}": expected inputs or outputs after the step, got "${third}"; ${fix}`);
  return { pipeline, step: second, io: third, tensor: rest.join('.') || undefined };
}

/** A topic to read, and whether its records must carry `pipeline: <name>` (shared model topics). */
export interface TopicSelection {
  topic: string;
  io: TopicIo;
  pipelineHeader?: string;
}

/**
 * The topics a path reads. A bare pipeline reads its own topics and every model topic in
 * `existing` (records of other pipelines are filtered out by their `pipeline` header).
 */
export function topicsFor(
  path: InspectPath,
  naming: TopicNaming,
  existing: readonly string[],
): TopicSelection[] {
  const ios: TopicIo[] = path.io ? [path.io] : ['inputs', 'outputs'];
  const own = (io: TopicIo) => ({ topic: pipelineTopic(naming, path.pipeline, io), io });
  const step = (model: string, io: TopicIo) => ({
    topic: modelTopic(naming, model, io),
    io,
    pipelineHeader: path.pipeline,
  });
  if (path.step) return ios.map((io) => step(path.step as string, io));
  if (path.io) return [own(path.io)];
  const prefix = modelTopicPrefix(naming);
  const models = [
    ...new Set(
      existing
        .filter((t) => t.startsWith(prefix) && /\.(inputs|outputs)$/.test(t))
        .map((t) => t.slice(prefix.length).replace(/\.(inputs|outputs)$/, '')),
    ),
  ].sort();
  return [own('inputs'), ...models.flatMap((m) => ios.map((io) => step(m, io))), own('outputs')];
}
