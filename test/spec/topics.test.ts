import { describe, expect, it } from 'vitest';
import { kafkaTopics } from '../../src/constructs/names.ts';
import { dataflowTopics, modelOfTopic, resourceTopics, topicIo } from '../../src/spec/topics.ts';

const prod = { prefix: 'seldon', namespace: 'prod' };

describe('topics', () => {
  it('names Kafka topics the Seldon way', () => {
    expect(resourceTopics(prod, 'model', 'iris')).toEqual([
      'seldon.prod.model.iris.inputs',
      'seldon.prod.model.iris.outputs',
    ]);
    expect(kafkaTopics('seldon', 'prod', 'pipeline', 'flow')).toEqual(
      resourceTopics(prod, 'pipeline', 'flow'),
    );
  });

  it('lists every topic of the dataflow engine once, sorted', () => {
    expect(dataflowTopics(prod, [{ name: 'flow', steps: ['a', 'a'] }])).toEqual([
      'seldon.prod.dataflow.flow.state',
      'seldon.prod.errors.errors',
      'seldon.prod.model.a.inputs',
      'seldon.prod.model.a.outputs',
      'seldon.prod.pipeline.flow.inputs',
      'seldon.prod.pipeline.flow.outputs',
    ]);
  });

  it('reads the model and the direction back from a topic', () => {
    const [inputs, outputs] = resourceTopics(prod, 'model', 'iris');
    expect([modelOfTopic(inputs), topicIo(inputs), topicIo(outputs)]).toEqual(['iris', 'inputs', 'outputs']);
  });
});
