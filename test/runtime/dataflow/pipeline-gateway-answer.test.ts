import { expect, it } from 'vitest';
import { MemoryBus } from '../../../src/runtime/bus/memory-bus.ts';
import { PipelineGateway } from '../../../src/runtime/dataflow/pipeline-gateway.ts';
import { DEFAULT_NAMING, pipelineTopic } from '../../../src/spec/topics.ts';
import { silent, sleep } from './fixtures.ts';

it("answers a call only with its own pipeline's output, not that of a pipeline it feeds (same key)", async () => {
  const bus = new MemoryBus(1);
  const gateway = new PipelineGateway(bus, DEFAULT_NAMING, ['chain'], silent, 2000);
  await gateway.start();
  const keys: string[] = [];
  const reader = await bus.consume({
    group: 'reader',
    topics: [pipelineTopic(DEFAULT_NAMING, 'chain', 'inputs')],
    readOnly: true,
    process: (records) => {
      for (const r of records) keys.push(r.key);
      return [];
    },
  });
  await reader.ready();
  try {
    const call = gateway.infer('chain', Buffer.from('request'), {});
    while (keys.length === 0) await sleep(5);
    const output = (pipeline: string, value: string) => ({
      topic: pipelineTopic(DEFAULT_NAMING, pipeline, 'outputs'),
      key: keys[0],
      value: Buffer.from(value),
      headers: { pipeline },
    });
    // The follower reads the chain's input, so its output carries the same key and commits first.
    gateway.answer([output('follower', 'follower answer')]);
    gateway.answer([output('chain', 'chain answer')]);
    expect((await call).value.toString()).toBe('chain answer');
  } finally {
    await reader.close();
    await gateway.stop();
  }
});
