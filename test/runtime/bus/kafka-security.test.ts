import { describe, expect, it } from 'vitest';
import { explainKafkaError, kafkaClientSecurity } from '../../../src/runtime/bus/kafka-security.ts';
import type { KafkaSecuritySettings } from '../../../src/spec/kafka-security.ts';

const SCRAM: KafkaSecuritySettings = {
  caFile: '/certs/ca.crt',
  sasl: { mechanism: 'scram-sha-512', username: 'alice', passwordFile: '/secrets/password' },
};
const files: Record<string, string> = { '/certs/ca.crt': 'CA PEM', '/secrets/password': 'p4ss\n' };
const read = (path: string) => {
  if (path in files) return files[path];
  throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
};

describe('kafkajs TLS and SASL settings', () => {
  it('builds ssl and sasl from the files named; the password file may end in a newline', () => {
    expect(kafkaClientSecurity(SCRAM, read)).toEqual({
      ssl: { rejectUnauthorized: true, ca: ['CA PEM'] },
      sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'p4ss' },
    });
    expect(kafkaClientSecurity({}, read)).toEqual({});
    expect(kafkaClientSecurity({ tls: true }, read)).toEqual({ ssl: { rejectUnauthorized: true } });
  });

  it('names the setting of a file it cannot read', () => {
    expect(() =>
      kafkaClientSecurity({ ...SCRAM, certFile: '/certs/missing.crt', keyFile: '/k' }, read),
    ).toThrow(
      'Kafka: cannot read the client certificate /certs/missing.crt (ENOENT); check kafka.tls.clientCertSecret (--kafka-cert / MLOPS_KAFKA_CERT)',
    );
  });
});

describe('security errors are explained, other errors left to the retries', () => {
  it('a rejected SASL login, also when kafkajs wrapped it after its retries', () => {
    const sasl = Object.assign(new Error('SASL SCRAM SHA512 authentication failed: Authentication failed'), {
      name: 'KafkaJSSASLAuthenticationError',
    });
    const wrapped = Object.assign(new Error(sasl.message), {
      name: 'KafkaJSNumberOfRetriesExceeded',
      cause: sasl,
    });
    for (const err of [sasl, wrapped]) {
      expect(explainKafkaError(err, 'k1:9093', SCRAM)?.message).toBe(
        "Kafka k1:9093 rejected SASL SCRAM-SHA-512 user 'alice': authentication failed; check kafka.sasl.passwordSecret (--kafka-password-file / MLOPS_KAFKA_PASSWORD_FILE / MLOPS_KAFKA_PASSWORD) and kafka.sasl.username (--kafka-user / MLOPS_KAFKA_USER)",
      );
    }
  });

  it('an untrusted broker certificate, and a refused client certificate', () => {
    const untrusted = Object.assign(
      new Error('Connection error: self-signed certificate in certificate chain'),
      {
        name: 'KafkaJSConnectionError',
        code: 'SELF_SIGNED_CERT_IN_CHAIN',
      },
    );
    expect(explainKafkaError(untrusted, 'k1:9093', SCRAM)?.message).toBe(
      'TLS: certificate of k1:9093 not trusted by the CA in /certs/ca.crt (SELF_SIGNED_CERT_IN_CHAIN); check kafka.tls.caSecret (--kafka-ca / MLOPS_KAFKA_CA)',
    );
    const refused = Object.assign(new Error('Connection error: certificate required'), {
      code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
    });
    expect(explainKafkaError(refused, 'k1:9094', { caFile: '/certs/ca.crt' })?.message).toMatch(
      /^TLS: k1:9094 refused the connection without a client certificate \(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED\); check kafka.tls.clientCertSecret/,
    );
  });

  it('leaves a broker that is down or a timeout to the retries', () => {
    const refused = Object.assign(new Error('Connection error: connect ECONNREFUSED'), {
      code: 'ECONNREFUSED',
    });
    expect(explainKafkaError(refused, 'k1:9093', SCRAM)).toBeUndefined();
    expect(explainKafkaError(new Error('Connection timeout'), 'k1:9093', SCRAM)).toBeUndefined();
  });
});
