import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type KafkaBroker, startKafka } from '../harness/kafka.ts';
import { describeE2E } from '../harness/toolchain.ts';

describeE2E('Kafka broker (KRaft, from Maven Central) with kafkajs', ['java'], () => {
  let kafka: KafkaBroker;
  let client: Kafka;

  beforeAll(async () => {
    kafka = await startKafka();
    client = new Kafka({ clientId: 'smoke', brokers: kafka.brokers, logLevel: logLevel.NOTHING });
  });
  afterAll(async () => {
    await kafka?.stop();
  });

  async function roundTrip(topic: string, key: string, value: string) {
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();

    const producer = client.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [{ key, value, headers: { 'seldon-model': 'iris', 'x-request-id': 'r-1' } }],
    });
    await producer.disconnect();

    const consumer = client.consumer({ groupId: `smoke-${topic}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<{ key?: string; value?: string; headers: Record<string, string> }>(
      (resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
            resolve({ key: message.key?.toString(), value: message.value?.toString(), headers });
          },
        });
      },
    );
    await consumer.disconnect();
    return received;
  }

  it('produces and consumes a keyed message with headers', async () => {
    const got = await roundTrip('smoke.keyed', 'request-42', '{"inputs":[]}');
    expect(got).toEqual({
      key: 'request-42',
      value: '{"inputs":[]}',
      headers: { 'seldon-model': 'iris', 'x-request-id': 'r-1' },
    });
  }, 60_000);

  it('keeps serving after a restart on the same address', async () => {
    await kafka.restart();
    const got = await roundTrip('smoke.after-restart', 'k2', 'v2');
    expect(got.key).toBe('k2');
    expect(got.value).toBe('v2');
  }, 120_000);
});
