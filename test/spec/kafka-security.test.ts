import { describe, expect, it } from 'vitest';
import { parseFlags } from '../../src/spec/flags.ts';
import { kafkaSecurityFromValues, kafkaSettingHint } from '../../src/spec/kafka-security.ts';

const fromArgs = (argv: string[], env: Record<string, string> = {}) =>
  kafkaSecurityFromValues(parseFlags('dataflow', argv, env), env);

describe('Kafka security settings from flags and env', () => {
  it('reads flags over env, and the password from MLOPS_KAFKA_PASSWORD only', () => {
    const { settings, problems } = fromArgs(
      ['--kafka-ca', 'flag-ca.pem', '--kafka-sasl-mechanism', 'SCRAM-SHA-256', '--kafka-user', 'alice'],
      { MLOPS_KAFKA_CA: 'env-ca.pem', MLOPS_KAFKA_PASSWORD: 's3cret', MLOPS_KAFKA_TLS: 'true' },
    );
    expect(problems).toEqual([]);
    expect(settings).toEqual({
      tls: true,
      caFile: 'flag-ca.pem',
      certFile: undefined,
      keyFile: undefined,
      sasl: { mechanism: 'scram-sha-256', username: 'alice', password: 's3cret', passwordFile: undefined },
    });
  });

  it('has no flag that takes the password itself', () => {
    expect(() => parseFlags('dataflow', ['--kafka-password', 'x'])).toThrow(/kafka-password/);
  });

  it('reports combinations that cannot work by flag name, without echoing a password', () => {
    const { problems } = fromArgs(['--kafka-key', 'k.pem', '--kafka-sasl-mechanism', 'scram-sha-512']);
    expect(problems.map((p) => `${p.field}: ${p.message}`)).toEqual([
      '--kafka-key: a client key without a client certificate (--kafka-cert)',
      '--kafka-user: SASL scram-sha-512 needs a user name',
      '--kafka-password-file (or MLOPS_KAFKA_PASSWORD): SASL scram-sha-512 needs a password',
    ]);
    const withoutMechanism = fromArgs(['--kafka-user', 'u'], { MLOPS_KAFKA_PASSWORD: 'hunter2' });
    expect(withoutMechanism.problems).toHaveLength(1);
    expect(withoutMechanism.problems[0].field).toBe('--kafka-sasl-mechanism');
    expect(JSON.stringify(withoutMechanism.problems)).not.toContain('hunter2');
    expect(
      fromArgs(['--kafka-sasl-mechanism', 'gssapi', '--kafka-user', 'u'], { MLOPS_KAFKA_PASSWORD: 'p' })
        .problems,
    ).toMatchObject([
      {
        field: '--kafka-sasl-mechanism',
        value: 'gssapi',
        message: 'is not a SASL mechanism the runtime speaks',
      },
    ]);
  });

  it('names a setting by its Runtime prop, flag and env var', () => {
    expect(kafkaSettingHint('password')).toBe(
      'kafka.sasl.passwordSecret (--kafka-password-file / MLOPS_KAFKA_PASSWORD_FILE / MLOPS_KAFKA_PASSWORD)',
    );
    expect(kafkaSettingHint('ca')).toBe('kafka.tls.caSecret (--kafka-ca / MLOPS_KAFKA_CA)');
  });
});
