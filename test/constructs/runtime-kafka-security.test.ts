import { describe, expect, it } from 'vitest';
import { Runtime, type RuntimeProps } from '../../src/constructs/runtime.ts';
import { collectFindings } from '../../src/constructs/validation.ts';
import { findCredentials } from '../../src/spec/credentials.ts';
import { parseFlags } from '../../src/spec/flags.ts';
import { kafkaSecurityFromValues } from '../../src/spec/kafka-security.ts';
import { type Json, setup, synthOne } from './helpers.ts';

const SECURED: RuntimeProps['kafka'] = {
  bootstrapServers: ['kafka-bootstrap.kafka:9093'],
  tls: {
    caSecret: { name: 'main-cluster-ca-cert' },
    clientCertSecret: { name: 'dataflow-user', key: 'user.crt' },
    clientKeySecret: { name: 'dataflow-user', key: 'user.key' },
  },
  sasl: { mechanism: 'scram-sha-512', username: 'dataflow', passwordSecret: { name: 'dataflow-user' } },
};

function build(kafka: RuntimeProps['kafka']) {
  const { env } = setup();
  const runtime = new Runtime(env, 'runtime', { kafka });
  return { env, runtime };
}

describe('Runtime kafka.tls and kafka.sasl', () => {
  it('mounts each referenced Secret key into the dataflow pod and names only paths in the ConfigMap', () => {
    const { env } = build(SECURED);
    const pod = synthOne(env, 'StatefulSet', 'mlops-dataflow').spec.template.spec as Json;
    const secretVolumes = pod.volumes.filter((v: Json) => v.secret);
    expect(secretVolumes).toEqual([
      {
        name: 'kafka-ca',
        secret: {
          secretName: 'main-cluster-ca-cert',
          items: [{ key: 'ca.crt', path: 'ca.crt' }],
          defaultMode: 0o440,
        },
      },
      {
        name: 'kafka-cert',
        secret: {
          secretName: 'dataflow-user',
          items: [{ key: 'user.crt', path: 'tls.crt' }],
          defaultMode: 0o440,
        },
      },
      {
        name: 'kafka-key',
        secret: {
          secretName: 'dataflow-user',
          items: [{ key: 'user.key', path: 'tls.key' }],
          defaultMode: 0o440,
        },
      },
      {
        name: 'kafka-password',
        secret: {
          secretName: 'dataflow-user',
          items: [{ key: 'password', path: 'password' }],
          defaultMode: 0o440,
        },
      },
    ]);
    const mounts = pod.containers[0].volumeMounts.filter((m: Json) => m.name.startsWith('kafka-'));
    expect(mounts.every((m: Json) => m.readOnly)).toBe(true);
    const data = (synthOne(env, 'ConfigMap', 'mlops-kafka') as Json).data as Record<string, string>;
    expect(data).toMatchObject({
      MLOPS_KAFKA_TLS: 'true',
      MLOPS_KAFKA_CA: '/etc/mlops/kafka/ca/ca.crt',
      MLOPS_KAFKA_CERT: '/etc/mlops/kafka/client-cert/tls.crt',
      MLOPS_KAFKA_KEY: '/etc/mlops/kafka/client-key/tls.key',
      MLOPS_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      MLOPS_KAFKA_USER: 'dataflow',
      MLOPS_KAFKA_PASSWORD_FILE: '/etc/mlops/kafka/sasl/password',
    });
    // No credential anywhere in what is synthesized, by the same rules `mlops validate` applies.
    expect(findCredentials(env.toJson())).toEqual([]);
  });

  it('hands the dataflow exactly these settings: its args and the ConfigMap parse back into them', () => {
    const { env } = build(SECURED);
    const container = synthOne(env, 'StatefulSet', 'mlops-dataflow').spec.template.spec.containers[0] as Json;
    const data = (synthOne(env, 'ConfigMap', 'mlops-kafka') as Json).data as Record<string, string>;
    // The kubelet expands $(VAR) from the pod env before the process starts.
    const args = (container.args as string[])
      .slice(1)
      .map((a) => a.replace(/\$\((\w+)\)/g, (_, v) => data[v] ?? v));
    const values = parseFlags('dataflow', args, data);
    const { settings, problems } = kafkaSecurityFromValues(values, data);
    expect(problems).toEqual([]);
    expect(settings).toEqual({
      tls: true,
      caFile: '/etc/mlops/kafka/ca/ca.crt',
      certFile: '/etc/mlops/kafka/client-cert/tls.crt',
      keyFile: '/etc/mlops/kafka/client-key/tls.key',
      sasl: {
        mechanism: 'scram-sha-512',
        username: 'dataflow',
        password: undefined,
        passwordFile: '/etc/mlops/kafka/sasl/password',
      },
    });
  });

  it('restarts the dataflow pods when a security setting changes', () => {
    const hash = (kafka: RuntimeProps['kafka']) =>
      synthOne(build(kafka).env, 'StatefulSet', 'mlops-dataflow').spec.template.metadata.annotations;
    const other = { ...SECURED, sasl: { ...SECURED.sasl, username: 'other' } } as RuntimeProps['kafka'];
    expect(hash(SECURED)).not.toEqual(hash(other));
  });

  it('leaves a plaintext Runtime without Secret volumes', () => {
    const { env } = build({ bootstrapServers: ['kafka:9092'] });
    const pod = synthOne(env, 'StatefulSet', 'mlops-dataflow').spec.template.spec as Json;
    expect(pod.volumes.filter((v: Json) => v.secret)).toEqual([]);
    expect(Object.keys((synthOne(env, 'ConfigMap', 'mlops-kafka') as Json).data as object).sort()).toEqual([
      'MLOPS_KAFKA_BROKERS',
      'MLOPS_KAFKA_PARTITIONS',
      'MLOPS_KAFKA_REPLICATION_FACTOR',
      'MLOPS_KAFKA_TOPIC_PREFIX',
    ]);
  });

  it('reports combinations that cannot work, each with its field and a fix', () => {
    const findings = (kafka: unknown) =>
      collectFindings(build(kafka as RuntimeProps['kafka']).runtime).map((f) => ({
        field: f.field,
        value: f.value,
        message: f.message,
        fix: f.fix,
      }));
    const base = { bootstrapServers: ['kafka:9093'] };
    expect(findings({ ...base, sasl: { mechanism: 'scram-sha-256', username: 'u' } })).toEqual([
      {
        field: 'kafka.sasl.passwordSecret',
        value: undefined,
        message: 'SASL scram-sha-256 needs a password',
        fix: 'set kafka.sasl.passwordSecret',
      },
    ]);
    expect(findings({ ...base, tls: { clientKeySecret: { name: 'k' } } })).toEqual([
      {
        field: 'kafka.tls.clientKeySecret',
        value: undefined,
        message: 'a client key without a client certificate (kafka.tls.clientCertSecret)',
        fix: 'give kafka.tls.clientCertSecret too, or leave out kafka.tls.clientKeySecret',
      },
    ]);
    expect(findings({ ...base, tls: { clientCertSecret: { name: 'c' } } }).map((f) => f.field)).toEqual([
      'kafka.tls.clientCertSecret',
    ]);
    expect(
      findings({ ...base, sasl: { mechanism: 'oauthbearer', username: 'u', passwordSecret: { name: 'p' } } }),
    ).toEqual([
      {
        field: 'kafka.sasl.mechanism',
        value: 'oauthbearer',
        message: 'is not a SASL mechanism the runtime speaks',
        fix: "use one of 'plain', 'scram-sha-256', 'scram-sha-512'",
      },
    ]);
    expect(findings({ ...base, tls: { caSecret: { name: 'Kafka_CA', key: 'ca crt' } } })).toMatchObject([
      { field: 'kafka.tls.caSecret.key', value: 'ca crt' },
      { field: 'kafka.tls.caSecret.name', value: 'Kafka_CA' },
    ]);
    // A literal password is not a prop: it is refused rather than written into the YAML.
    expect(
      findings({
        ...base,
        sasl: { mechanism: 'plain', username: 'u', password: 'hunter2', passwordSecret: { name: 'p' } },
      }).map((f) => f.field),
    ).toEqual(['kafka.sasl.password']);
  });
});
