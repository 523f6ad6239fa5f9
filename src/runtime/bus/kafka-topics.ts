import type { Admin } from 'kafkajs';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Creates `topics` and resolves once every partition of each has a leader. kafkajs's own wait is
 * not enough: it is skipped when another process created some of the topics a moment earlier
 * (the first fetch then fails with "This server does not host this topic-partition"), and it
 * gives up on that same error while a KRaft broker's metadata still lags the controller.
 */
export async function createTopicsWithLeaders(
  admin: Admin,
  topics: string[],
  settings: { numPartitions: number; replicationFactor: number },
  timeoutMs = 30_000,
): Promise<void> {
  await admin.createTopics({
    waitForLeaders: false,
    topics: topics.map((topic) => ({ topic, ...settings })),
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let missing: string[] = topics;
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics });
      const led = new Set(
        found
          .filter((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))
          .map((t) => t.name),
      );
      missing = topics.filter((t) => !led.has(t));
      if (missing.length === 0) return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline)
      throw new Error(`topics without a leader after ${timeoutMs} ms: ${missing.join(', ')}`);
    await sleep(100);
  }
}
