import { AssignerProtocol, type Cluster, type Logger } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { CopartitionedAssigner } from '../../../src/runtime/bus/copartitioned-assigner.ts';

const cluster = (partitions: Record<string, number>) =>
  ({
    findTopicPartitionMetadata: (topic: string) =>
      Array.from({ length: partitions[topic] }, (_, partitionId) => ({ partitionId })),
  }) as unknown as Cluster;

function assign(partitions: Record<string, number>, members: string[]) {
  const assigner = CopartitionedAssigner({
    cluster: cluster(partitions),
    groupId: 'g',
    logger: {} as Logger,
  });
  return assigner
    .assign({
      members: members.map((memberId) => ({ memberId, memberMetadata: Buffer.alloc(0) })),
      topics: Object.keys(partitions),
    })
    .then((result) =>
      Object.fromEntries(
        result.map((r) => [
          r.memberId,
          AssignerProtocol.MemberAssignment.decode(r.memberAssignment)?.assignment,
        ]),
      ),
    );
}

describe('CopartitionedAssigner', () => {
  it('gives each member the same partition numbers of every topic', async () => {
    expect(await assign({ a: 3, b: 3 }, ['m2', 'm1'])).toEqual({
      m1: { a: [0, 2], b: [0, 2] },
      m2: { a: [1], b: [1] },
    });
  });

  it('keeps single-partition topics together on one member', async () => {
    expect(await assign({ a: 1, b: 1, c: 1 }, ['x', 'y', 'z'])).toEqual({
      x: { a: [0], b: [0], c: [0] },
      y: {},
      z: {},
    });
  });
});
