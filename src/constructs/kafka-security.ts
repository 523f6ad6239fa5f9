/**
 * The `Runtime`'s Kafka TLS and SASL settings: references to Secrets, never credentials. They
 * become Secret volumes of the dataflow pod and, in its Kafka ConfigMap, the paths and plain
 * words (mechanism, user name) the runtime reads — so no credential reaches the YAML or a diff.
 */
import {
  KAFKA_SECRET_DEFAULT_KEYS,
  KAFKA_SECRET_MOUNTS,
  KAFKA_SECURITY,
  kafkaSecurityProblems,
  SASL_MECHANISMS,
  type SaslMechanism,
} from '../spec/kafka-security.ts';
import { dnsSubdomainProblem } from './names.ts';
import type { Problem } from './validation.ts';
import type { k8s } from './workloads/kplus.ts';

/** One key of a Secret in the runtime's namespace. */
export interface SecretKeySelector {
  /** Name of the Secret. */
  readonly name: string;
  /**
   * The key within the Secret.
   * @default - `ca.crt` for a CA, `tls.crt` and `tls.key` for a client certificate and key (a
   *   `kubernetes.io/tls` Secret), `password` for a SASL password (a Strimzi `KafkaUser` Secret)
   */
  readonly key?: string;
}

/** TLS to the brokers: server verification, and optionally a client certificate (mutual TLS). */
export interface KafkaTlsSettings {
  /**
   * PEM CA certificates the brokers' certificates must chain to, e.g. Strimzi's
   * `{ name: '<cluster>-cluster-ca-cert' }`.
   * @default - the CAs Node.js trusts (public certificate authorities)
   */
  readonly caSecret?: SecretKeySelector;
  /**
   * PEM client certificate, for brokers that require mutual TLS; needs `clientKeySecret`.
   * @default - no client certificate
   */
  readonly clientCertSecret?: SecretKeySelector;
  /**
   * PEM private key (unencrypted) of the client certificate; needs `clientCertSecret`.
   * @default - no client certificate
   */
  readonly clientKeySecret?: SecretKeySelector;
}

/** SASL authentication to the brokers (over TLS when `tls` is set too: SASL_SSL). */
export interface KafkaSaslSettings {
  /** `plain`, `scram-sha-256` or `scram-sha-512`. */
  readonly mechanism: SaslMechanism;
  /** The SASL user name (not a secret: it shows in the Kafka ConfigMap). */
  readonly username: string;
  /** The Secret key holding the user's password, e.g. `{ name: 'dataflow-user' }` (key `password`). */
  readonly passwordSecret: SecretKeySelector;
}

/** The security props of `KafkaSettings`, as the functions below read them. */
interface Security {
  readonly tls?: KafkaTlsSettings;
  readonly sasl?: KafkaSaslSettings;
}

type Mounted = keyof typeof KAFKA_SECRET_MOUNTS;

/** Each Secret reference given, by what it mounts as, with its prop path. */
function references(s: Security): { what: Mounted; prop: string; ref: SecretKeySelector }[] {
  const refs: { what: Mounted; prop: string; ref: SecretKeySelector | undefined }[] = [
    { what: 'ca', prop: KAFKA_SECURITY.ca.prop, ref: s.tls?.caSecret },
    { what: 'cert', prop: KAFKA_SECURITY.cert.prop, ref: s.tls?.clientCertSecret },
    { what: 'key', prop: KAFKA_SECURITY.key.prop, ref: s.tls?.clientKeySecret },
    { what: 'password', prop: KAFKA_SECURITY.password.prop, ref: s.sasl?.passwordSecret },
  ];
  return refs.filter(
    (r): r is { what: Mounted; prop: string; ref: SecretKeySelector } => r.ref !== undefined,
  );
}

const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/** Combinations that cannot work and Secret references that are not names, as findings. */
export function kafkaSecurityFindings(s: Security): Problem[] {
  const problems: Problem[] = kafkaSecurityProblems(
    {
      cert: s.tls?.clientCertSecret !== undefined,
      key: s.tls?.clientKeySecret !== undefined,
      mechanism: s.sasl?.mechanism,
      user: s.sasl?.username,
      password: s.sasl?.passwordSecret !== undefined,
    },
    (key) => KAFKA_SECURITY[key].prop,
  ).map((p) =>
    p.field === KAFKA_SECURITY.mechanism.prop && p.value !== undefined
      ? { ...p, fix: `use one of ${SASL_MECHANISMS.map((m) => `'${m}'`).join(', ')}` }
      : p,
  );
  // A JavaScript caller may pass one; it is never synthesized, and its value is not echoed.
  if (s.sasl && 'password' in s.sasl)
    problems.push({
      field: 'kafka.sasl.password',
      message: 'a literal password would end up in the manifests and their diffs, so it is not a setting',
      fix: 'put the password in a Secret and name it with kafka.sasl.passwordSecret',
    });
  for (const { prop, ref } of references(s)) {
    const nameProblem = dnsSubdomainProblem(ref.name ?? '');
    if (nameProblem)
      problems.push({
        field: `${prop}.name`,
        value: ref.name,
        message: `Secret name ${nameProblem}`,
        fix: 'name an existing Secret of the runtime namespace',
      });
    if (ref.key !== undefined && !SECRET_KEY.test(ref.key))
      problems.push({
        field: `${prop}.key`,
        value: ref.key,
        message: 'is not a Secret key',
        fix: 'use letters, digits, "-", "_" and "." only, e.g. "ca.crt"',
      });
  }
  return problems;
}

/** What the dataflow pod gets: ConfigMap entries (paths, mechanism, user) and Secret volumes. */
export interface KafkaSecurityPod {
  readonly env: Record<string, string>;
  readonly volumes: k8s.Volume[];
  readonly mounts: k8s.VolumeMount[];
}

const ENV_OF: Record<Mounted, string> = {
  ca: KAFKA_SECURITY.ca.env,
  cert: KAFKA_SECURITY.cert.env,
  key: KAFKA_SECURITY.key.env,
  password: KAFKA_SECURITY.passwordFile.env,
};

export function kafkaSecurityPod(s: Security): KafkaSecurityPod {
  const env: Record<string, string> = {};
  const volumes: k8s.Volume[] = [];
  const mounts: k8s.VolumeMount[] = [];
  if (s.tls) env[KAFKA_SECURITY.tls.env] = 'true';
  if (s.sasl) {
    env[KAFKA_SECURITY.mechanism.env] = s.sasl.mechanism;
    env[KAFKA_SECURITY.user.env] = s.sasl.username;
  }
  for (const { what, ref } of references(s)) {
    const { dir, file } = KAFKA_SECRET_MOUNTS[what];
    const volume = `kafka-${what}`;
    volumes.push({
      name: volume,
      // Readable by the pod's group only (the pod sets fsGroup).
      secret: {
        secretName: ref.name,
        items: [{ key: ref.key ?? KAFKA_SECRET_DEFAULT_KEYS[what], path: file }],
        defaultMode: 0o440,
      },
    });
    mounts.push({ name: volume, mountPath: dir, readOnly: true });
    env[ENV_OF[what]] = `${dir}/${file}`;
  }
  return { env, volumes, mounts };
}
