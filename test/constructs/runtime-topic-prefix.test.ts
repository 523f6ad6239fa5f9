import { App } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { Environment } from '../../src/constructs/environment.ts';
import { Runtime } from '../../src/constructs/runtime.ts';
import { problems } from './helpers.ts';

describe('Runtime kafka.topicPrefix', () => {
  it("is reported when it disagrees with the Environment's kafkaTopicPrefix", () => {
    const app = new App({ outdir: 'unused' });
    const env = new Environment(app, 'prod', { namespace: 'prod', kafkaTopicPrefix: 'team-a' });
    new Runtime(env, 'runtime', { kafka: { bootstrapServers: ['kafka:9092'], topicPrefix: 'seldon' } });
    expect(problems(app)).toEqual([
      'prod/runtime kafka.topicPrefix: disagrees with the Environment\'s kafkaTopicPrefix "team-a": topic names are checked with one prefix and created with the other',
    ]);
  });

  it('is accepted when both say the same, or only one of them says it', () => {
    const app = new App({ outdir: 'unused' });
    const a = new Environment(app, 'a', { namespace: 'a', kafkaTopicPrefix: 'team-a' });
    new Runtime(a, 'runtime', { kafka: { bootstrapServers: ['kafka:9092'], topicPrefix: 'team-a' } });
    const b = new Environment(app, 'b', { namespace: 'b', kafkaTopicPrefix: 'team-b' });
    new Runtime(b, 'runtime', { kafka: { bootstrapServers: ['kafka:9092'] } });
    const c = new Environment(app, 'c', { namespace: 'c' });
    new Runtime(c, 'runtime', { kafka: { bootstrapServers: ['kafka:9092'], topicPrefix: 'team-c' } });
    expect(problems(app)).toEqual([]);
  });
});
