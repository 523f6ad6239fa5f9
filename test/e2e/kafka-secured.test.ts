import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KafkaBus } from '../../src/runtime/bus/kafka-bus.ts';
import type { KafkaSecuritySettings } from '../../src/spec/kafka-security.ts';
import { repoRoot } from './harness/cache.ts';
import { expectExactlyOnceAcrossBrokerRestart } from './harness/exact-count.ts';
import { type KafkaBroker, startKafka } from './harness/kafka.ts';
import type { SecuredListeners } from './harness/kafka-tls.ts';
import { describeE2E } from './harness/toolchain.ts';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const run = promisify(execFile);

/** Runs a bin of this package; resolves with its exit code and output whatever the code. */
async function bin(name: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(repoRoot, 'bin', name), ...args], {
      env: { ...process.env, ...env },
      cwd: repoRoot,
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describeE2E('the dataflow on a secured Kafka: SASL_SSL and mutual TLS', ['java', 'openssl'], () => {
  let kafka: KafkaBroker;
  let tls: SecuredListeners;
  const buses: KafkaBus[] = [];
  const bus = (brokers: string, security: KafkaSecuritySettings, instanceId = 'secured') => {
    const b = new KafkaBus({ brokers: [brokers], logger, instanceId, partitions: 2, security });
    buses.push(b);
    return b;
  };
  const scram512 = (password = tls.password): KafkaSecuritySettings => ({
    caFile: tls.certificates.ca,
    sasl: { mechanism: 'scram-sha-512', username: tls.user, password },
  });
  const saslFlags = () => [
    ...['--kafka-ca', tls.certificates.ca, '--kafka-sasl-mechanism', 'scram-sha-512'],
    ...['--kafka-user', tls.user],
  ];

  /**
   * `mlops-runtime dataflow` on the SASL_SSL listener with `args` last: every role, the pipeline
   * gateway listening, so nothing but a settings error ends it.
   */
  const dataflow = (args: string[], env: NodeJS.ProcessEnv) =>
    bin(
      'mlops-runtime.js',
      ['dataflow', '--manifests', mkdtempSync(join(tmpdir(), 'df-')), '--inference', '127.0.0.1:1']
        .concat(['--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0'])
        .concat(['--brokers', tls.saslSsl, ...saslFlags(), ...args]),
      env,
    );

  beforeAll(async () => {
    kafka = await startKafka({ secured: true });
    tls = kafka.secured as SecuredListeners;
  }, 120_000);
  afterAll(async () => {
    for (const b of buses) await b.close().catch(() => {});
    await kafka?.stop();
  });

  it('runs a pipeline over SASL_SSL (SCRAM-SHA-512), losing or doubling nothing across a broker restart', async () => {
    await expectExactlyOnceAcrossBrokerRestart({
      name: 'sp',
      bus: bus(tls.saslSsl, scram512(), 'sp'),
      reader: bus(tls.saslSsl, scram512(), 'sp-reader'),
      restart: () => kafka.restart(),
      total: 150,
    });
  }, 240_000);

  it('authenticates with SASL PLAIN and SCRAM-SHA-256 too', async () => {
    for (const mechanism of ['plain', 'scram-sha-256'] as const) {
      const b = bus(tls.saslSsl, {
        caFile: tls.certificates.ca,
        sasl: { mechanism, username: tls.user, password: tls.password },
      });
      await b.ensureTopics([`secured.${mechanism}`]);
      await b.publish([{ topic: `secured.${mechanism}`, key: 'k', value: Buffer.from(mechanism) }]);
      const back = await b.readSince(`secured.${mechanism}`, 0);
      expect(back.map((r) => r.value.toString())).toEqual([mechanism]);
    }
  }, 60_000);

  it('mutual TLS: a client certificate signed by the CA is accepted, none is refused with the reason', async () => {
    const { ca, clientCert, clientKey } = tls.certificates;
    const b = bus(tls.mtls, { caFile: ca, certFile: clientCert, keyFile: clientKey });
    await b.ensureTopics(['secured.mtls']);
    await b.publish([{ topic: 'secured.mtls', key: 'k', value: Buffer.from('over mTLS') }]);
    expect((await b.readSince('secured.mtls', 0)).map((r) => r.value.toString())).toEqual(['over mTLS']);

    const without = bus(tls.mtls, { caFile: ca });
    await expect(without.verify()).rejects.toThrow(
      `TLS: ${tls.mtls} refused the connection without a client certificate`,
    );
  }, 60_000);

  it('a wrong password ends the dataflow at once, naming the broker, user and setting', async () => {
    const wrong = 'not-the-password';
    const r = await dataflow([], { MLOPS_KAFKA_PASSWORD: wrong });
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 1 });
    expect(r.stderr).toContain(
      `Kafka ${tls.saslSsl} rejected SASL SCRAM-SHA-512 user '${tls.user}': authentication failed; check kafka.sasl.passwordSecret`,
    );
    expect(r.stderr + r.stdout).not.toContain(wrong);
  }, 60_000);

  it('an untrusted CA ends the dataflow at once, naming the broker and the CA file', async () => {
    const { otherCa } = tls.certificates;
    const r = await dataflow(['--kafka-ca', otherCa], { MLOPS_KAFKA_PASSWORD: tls.password });
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 1 });
    expect(r.stderr).toContain(`TLS: certificate of ${tls.saslSsl} not trusted by the CA in ${otherCa} (`);
    expect(r.stderr).toContain('); check kafka.tls.caSecret');
  }, 60_000);

  it('mlops inspect and mlops dev take the same settings from flags and env, and refuse bad ones', async () => {
    // The pipeline of the first test left its records on the SASL_SSL broker.
    const read = await bin('mlops.js', ['inspect', 'sp', '--kafka', tls.saslSsl, ...saslFlags()], {
      MLOPS_KAFKA_PASSWORD: tls.password,
    });
    expect(read.stderr).toBe('');
    expect(read.code).toBe(0);
    expect(read.stdout).toContain('seldon.default.pipeline.sp.outputs');

    const fromEnv = await bin('mlops.js', ['inspect', 'sp', '--kafka', tls.saslSsl], {
      MLOPS_KAFKA_CA: tls.certificates.ca,
      MLOPS_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      MLOPS_KAFKA_USER: tls.user,
      MLOPS_KAFKA_PASSWORD: 'wrong',
    });
    expect({ code: fromEnv.code, stderr: fromEnv.stderr }).toMatchObject({ code: 1 });
    expect(fromEnv.stderr).toContain(
      `inspect: Kafka ${tls.saslSsl} rejected SASL SCRAM-SHA-512 user '${tls.user}'`,
    );

    const dev = await bin(
      'mlops.js',
      ['dev', 'dist/pipelines', '--kafka', tls.saslSsl, ...saslFlags()].concat([
        '--kafka-ca',
        tls.certificates.otherCa,
      ]),
      { MLOPS_KAFKA_PASSWORD: tls.password },
    );
    expect({ code: dev.code, stderr: dev.stderr }).toMatchObject({ code: 1 });
    expect(dev.stderr).toContain(`dev: TLS: certificate of ${tls.saslSsl} not trusted by the CA in`);
  }, 90_000);
});
