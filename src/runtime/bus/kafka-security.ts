/**
 * TLS and SASL for the kafkajs clients, and the check that makes a wrong password or an
 * untrusted certificate fail at once with a message naming the broker and the setting to fix,
 * instead of ending in kafkajs's retry loop (which retries every connection error, TLS ones too).
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Kafka, type KafkaConfig, logLevel, type SASLOptions } from 'kafkajs';
import {
  type KafkaSecurityKey,
  type KafkaSecuritySettings,
  kafkaSettingHint,
  usesTls,
} from '../../spec/kafka-security.ts';

/** A Kafka setting that cannot work: retrying does not help, the setting must change. */
export class KafkaSecurityError extends Error {
  override name = 'KafkaSecurityError';
}

/** The `ssl` and `sasl` parts of a kafkajs client config; reads the files named (once). */
export function kafkaClientSecurity(
  s: KafkaSecuritySettings,
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const file = (path: string | undefined, key: KafkaSecurityKey, what: string) => {
    if (path === undefined) return undefined;
    try {
      return read(path);
    } catch (err) {
      throw new KafkaSecurityError(
        `Kafka: cannot read the ${what} ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check ${kafkaSettingHint(key)}`,
      );
    }
  };
  const out: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (usesTls(s)) {
    const ssl: ConnectionOptions = { rejectUnauthorized: true };
    const ca = file(s.caFile, 'ca', 'CA certificates');
    if (ca !== undefined) ssl.ca = [ca];
    const cert = file(s.certFile, 'cert', 'client certificate');
    if (cert !== undefined) ssl.cert = cert;
    const key = file(s.keyFile, 'key', 'client key');
    if (key !== undefined) ssl.key = key;
    out.ssl = ssl;
  }
  if (s.sasl) {
    const password =
      s.sasl.password ??
      file(s.sasl.passwordFile, 'passwordFile', 'SASL password file')?.replace(/\r?\n$/, '');
    if (password === undefined)
      throw new KafkaSecurityError(
        `Kafka: SASL ${s.sasl.mechanism} without a password; set ${kafkaSettingHint('password')}`,
      );
    out.sasl = { mechanism: s.sasl.mechanism, username: s.sasl.username, password } as SASLOptions;
  }
  return out;
}

// Node's codes for a server certificate that does not verify.
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
]);
// TLS alerts a broker sends when it refuses the client certificate (or its absence).
const CLIENT_CERT_REFUSED =
  /ALERT_(CERTIFICATE_REQUIRED|UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|HANDSHAKE_FAILURE)/;

interface KafkaError {
  name?: string;
  message?: string;
  code?: string;
  cause?: KafkaError;
}

/**
 * The security error behind a kafkajs failure talking to `broker`, explained, or undefined when
 * it is something retrying may cure (a broker down or starting, a network error).
 */
export function explainKafkaError(
  err: unknown,
  broker: string,
  s: KafkaSecuritySettings,
): KafkaSecurityError | undefined {
  // kafkajs wraps the error of the last attempt (`cause`) once its retries run out.
  let e = err as KafkaError | undefined;
  while (e?.cause && e.name !== 'KafkaJSSASLAuthenticationError' && !e.code) e = e.cause;
  if (!e) return undefined;
  const message = e.message ?? String(err);
  if (e.name === 'KafkaJSSASLAuthenticationError' && s.sasl) {
    const mechanism = s.sasl.mechanism.toUpperCase();
    if (/not supported by the server/.test(message))
      return new KafkaSecurityError(
        `Kafka ${broker} does not offer SASL ${mechanism}; check ${kafkaSettingHint('mechanism')}`,
      );
    return new KafkaSecurityError(
      `Kafka ${broker} rejected SASL ${mechanism} user '${s.sasl.username}': authentication failed; check ${kafkaSettingHint('password')} and ${kafkaSettingHint('user')}`,
    );
  }
  const code = e.code ?? '';
  if (UNTRUSTED.has(code))
    return new KafkaSecurityError(
      `TLS: certificate of ${broker} not trusted by the CA in ${s.caFile ?? "Node.js's default CA list"} (${code}); check ${kafkaSettingHint('ca')}`,
    );
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return new KafkaSecurityError(
      `TLS: certificate of ${broker} is not issued for that host (${message.replace(/^Connection error: /, '')}); check the bootstrap servers, or the broker's certificate`,
    );
  if (CLIENT_CERT_REFUSED.test(code))
    return new KafkaSecurityError(
      `TLS: ${broker} refused ${s.certFile ? `the client certificate ${s.certFile}` : 'the connection without a client certificate'} (${code}); check ${kafkaSettingHint('cert')} and ${kafkaSettingHint('key')}`,
    );
  if (/^ERR_OSSL_|^ERR_SSL_/.test(code) || /PEM|key values mismatch/i.test(message))
    return new KafkaSecurityError(`TLS: cannot use the certificates for ${broker}: ${message} (${code})`);
  return undefined;
}

/**
 * Connects to each bootstrap broker once, without retries, until one accepts: a security error
 * (wrong password, untrusted certificate, refused client certificate) throws a
 * `KafkaSecurityError`; brokers that cannot be reached are left to the client's usual retries.
 */
export async function verifyKafkaSecurity(
  brokers: readonly string[],
  s: KafkaSecuritySettings,
  config: Pick<KafkaConfig, 'ssl' | 'sasl'> = kafkaClientSecurity(s),
): Promise<void> {
  if (!config.ssl && !config.sasl) return;
  for (const broker of brokers) {
    const admin = new Kafka({
      clientId: 'mlops-security-check',
      brokers: [broker],
      ...config,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 5000,
      retry: { retries: 0 },
    }).admin({ retry: { retries: 0 } });
    try {
      await admin.connect();
      return;
    } catch (err) {
      const explained = explainKafkaError(err, broker, s);
      if (explained) throw explained;
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }
}
