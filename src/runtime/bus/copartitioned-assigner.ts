import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

/**
 * Gives one member partition N of every subscribed topic (members sorted by id, N mod their
 * count). Records of one request share a key and so a partition number on every topic, which
 * lets a join see all its inputs in one process; kafkajs's round-robin assigner spreads a
 * partition's topics over different members.
 */
export const CopartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'MlopsCopartitioned',
  version: 1,
  async assign({ members, topics }) {
    const ids = members.map((m) => m.memberId).sort();
    const assignment = new Map<string, Record<string, number[]>>(ids.map((id) => [id, {}]));
    for (const topic of topics) {
      const partitions = cluster
        .findTopicPartitionMetadata(topic)
        .map((p) => p.partitionId)
        .sort((a, b) => a - b);
      for (const partition of partitions) {
        const owner = assignment.get(ids[partition % ids.length]);
        if (!owner) continue;
        const list = owner[topic] ?? [];
        list.push(partition);
        owner[topic] = list;
      }
    }
    return ids.map((memberId) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 1,
        assignment: assignment.get(memberId) ?? {},
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: 'MlopsCopartitioned',
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
    };
  },
});
