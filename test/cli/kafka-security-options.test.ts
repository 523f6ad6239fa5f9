import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  addKafkaSecurityOptions,
  kafkaSecurityArgv,
  kafkaSecurityFromOptions,
} from '../../src/cli/kafka-security-options.ts';

const parse = (argv: string[]) => {
  const command = addKafkaSecurityOptions(new Command('x').exitOverride());
  command.parse(argv, { from: 'user' });
  return command.opts();
};

describe('the Kafka security options of mlops dev and mlops inspect', () => {
  it('reads the flags, the password from the environment, and hands components every file but no password', () => {
    const opts = parse(['--kafka-ca', 'ca.pem', '--kafka-sasl-mechanism', 'plain', '--kafka-user', 'u']);
    const settings = kafkaSecurityFromOptions('dev', opts, { MLOPS_KAFKA_PASSWORD: 'hunter2' });
    expect(settings.sasl).toEqual({
      mechanism: 'plain',
      username: 'u',
      password: 'hunter2',
      passwordFile: undefined,
    });
    const argv = kafkaSecurityArgv(settings);
    expect(argv).toMatchObject({ 'kafka-ca': 'ca.pem', 'kafka-sasl-mechanism': 'plain', 'kafka-user': 'u' });
    expect(JSON.stringify(argv)).not.toContain('hunter2');
  });

  it('takes no password flag, and refuses a mechanism without a password as a usage error', () => {
    expect(() => parse(['--kafka-password', 'x'])).toThrow(/unknown option '--kafka-password'/);
    const opts = parse(['--kafka-sasl-mechanism', 'scram-sha-512', '--kafka-user', 'u']);
    expect(() => kafkaSecurityFromOptions('inspect', opts, {})).toThrow(
      expect.objectContaining({
        exitCode: 2,
        message: expect.stringContaining(
          'inspect: --kafka-password-file (or MLOPS_KAFKA_PASSWORD) SASL scram-sha-512 needs a password',
        ),
      }),
    );
  });
});
