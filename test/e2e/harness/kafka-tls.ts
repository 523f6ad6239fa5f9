import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Files a secured broker and its clients use, all PEM, made with openssl for one run. */
export interface KafkaCertificates {
  /** The CA that signs the broker's and the client's certificates. */
  ca: string;
  /** A CA that signed nothing here: a client trusting only it must refuse the broker. */
  otherCa: string;
  clientCert: string;
  clientKey: string;
  /** The broker's key and certificate chain in one file (Kafka's PEM key store). */
  brokerKeyStore: string;
}

/** The extra listeners of a secured broker: SASL_SSL, and SSL requiring client certificates. */
export interface SecuredListeners {
  /** `host:port` of the SASL_SSL listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512). */
  saslSsl: string;
  /** `host:port` of the SSL listener that requires a client certificate signed by the CA. */
  mtls: string;
  certificates: KafkaCertificates;
  /** A user known to every SASL mechanism of the SASL_SSL listener, with its password. */
  user: string;
  password: string;
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: 'pipe' });

function selfSignedCa(dir: string, name: string): void {
  openssl(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`].concat(
      ['-days', '2', '-subj', `/CN=${name}`],
    ),
    dir,
  );
}

/** A key (PKCS#8, unencrypted) and a certificate for it signed by `ca.crt`. */
function signed(dir: string, name: string, extensions: string): void {
  openssl(
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}`,
    ],
    dir,
  );
  writeFileSync(join(dir, `${name}.ext`), `${extensions}\n`);
  openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial'].concat([
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    ]),
    dir,
  );
}

export function makeCertificates(dir: string): KafkaCertificates {
  mkdirSync(dir, { recursive: true });
  selfSignedCa(dir, 'ca');
  selfSignedCa(dir, 'other-ca');
  signed(dir, 'broker', 'subjectAltName=IP:127.0.0.1,DNS:localhost');
  signed(dir, 'client', 'extendedKeyUsage=clientAuth');
  const brokerKeyStore = join(dir, 'broker.pem');
  writeFileSync(
    brokerKeyStore,
    readFileSync(join(dir, 'broker.key'), 'utf8') + readFileSync(join(dir, 'broker.crt'), 'utf8'),
  );
  return {
    ca: join(dir, 'ca.crt'),
    otherCa: join(dir, 'other-ca.crt'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
    brokerKeyStore,
  };
}

/** A fresh SASL user name and password for one run. */
export function makeUser(): { user: string; password: string } {
  return { user: 'mlops-e2e', password: randomBytes(12).toString('base64url') };
}

/**
 * Broker settings for the two extra listeners (named SASL_SSL and MTLS); SCRAM credentials are
 * written into the storage at format time (`--add-scram`), PLAIN ones into the listener's JAAS.
 */
export function securedBrokerConfig(
  ports: { saslSsl: number; mtls: number },
  certs: KafkaCertificates,
  login: { user: string; password: string },
): { listeners: string[]; protocols: string[]; properties: string[]; formatArgs: string[] } {
  const scram = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  return {
    listeners: [`SASL_SSL://127.0.0.1:${ports.saslSsl}`, `MTLS://127.0.0.1:${ports.mtls}`],
    protocols: ['SASL_SSL:SASL_SSL', 'MTLS:SSL'],
    properties: [
      'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
      `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${login.user}="${login.password}";`,
      `listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=${scram}`,
      `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=${scram}`,
      'listener.name.mtls.ssl.client.auth=required',
      'ssl.keystore.type=PEM',
      `ssl.keystore.location=${certs.brokerKeyStore}`,
      'ssl.truststore.type=PEM',
      `ssl.truststore.location=${certs.ca}`,
    ],
    formatArgs: ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => [
      '--add-scram',
      `${m}=[name=${login.user},password=${login.password}]`,
    ]),
  };
}
