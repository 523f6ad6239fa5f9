import { describe, expect, it } from 'vitest';
import { modelOfTopic, resourceTopics, topicIo } from '../../src/spec/topics.ts';

const prod = { prefix: 'seldon', namespace: 'prod' };

describe('topics', () => {
  it('names Kafka topics the Seldon way', () => {
    expect(resourceTopics(prod, 'model', 'iris')).toEqual([
      'seldon.prod.model.iris.inputs',
      'seldon.prod.model.iris.outputs',
    ]);
    expect(resourceTopics(prod, 'pipeline', 'flow')).toEqual([
      'seldon.prod.pipeline.flow.inputs',
      'seldon.prod.pipeline.flow.outputs',
    ]);
  });

  it('reads the model and the direction back from a topic', () => {
    const [inputs, outputs] = resourceTopics(prod, 'model', 'iris');
    expect([modelOfTopic(inputs), topicIo(inputs), topicIo(outputs)]).toEqual(['iris', 'inputs', 'outputs']);
  });
});
