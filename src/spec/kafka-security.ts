/**
 * Secured Kafka (TLS, mTLS, SASL): the one settings shape the runtime's Kafka clients, the
 * `Runtime` construct that mounts them and the CLI that takes them from flags all share. Plain
 * data and pure functions: no file is read here.
 *
 * Every setting is a file path or a plain word, except the SASL password, which a process reads
 * from a file (a mounted Secret) or an env var, never from a command-line flag (`ps` shows those).
 */

/** SASL mechanisms the runtime speaks. */
export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
/** A SASL mechanism the runtime speaks (OAUTHBEARER is not one). */
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** How a process is told its Kafka security: a flag, its env var, the `Runtime` prop behind it. */
export interface KafkaSecuritySetting {
  /** Command-line flag without dashes; none for the password itself. */
  readonly flag?: string;
  readonly env: string;
  /** The `Runtime` prop that sets it in a cluster. */
  readonly prop: string;
}

export const KAFKA_SECURITY = {
  tls: { flag: 'kafka-tls', env: 'MLOPS_KAFKA_TLS', prop: 'kafka.tls' },
  ca: { flag: 'kafka-ca', env: 'MLOPS_KAFKA_CA', prop: 'kafka.tls.caSecret' },
  cert: { flag: 'kafka-cert', env: 'MLOPS_KAFKA_CERT', prop: 'kafka.tls.clientCertSecret' },
  key: { flag: 'kafka-key', env: 'MLOPS_KAFKA_KEY', prop: 'kafka.tls.clientKeySecret' },
  mechanism: {
    flag: 'kafka-sasl-mechanism',
    env: 'MLOPS_KAFKA_SASL_MECHANISM',
    prop: 'kafka.sasl.mechanism',
  },
  user: { flag: 'kafka-user', env: 'MLOPS_KAFKA_USER', prop: 'kafka.sasl.username' },
  passwordFile: {
    flag: 'kafka-password-file',
    env: 'MLOPS_KAFKA_PASSWORD_FILE',
    prop: 'kafka.sasl.passwordSecret',
  },
  password: { env: 'MLOPS_KAFKA_PASSWORD', prop: 'kafka.sasl.passwordSecret' },
} as const satisfies Record<string, KafkaSecuritySetting>;

export type KafkaSecurityKey = keyof typeof KAFKA_SECURITY;

/** Where the dataflow pod mounts each Secret the `Runtime` names (one folder per Secret key). */
export const KAFKA_SECRET_MOUNTS = {
  ca: { dir: '/etc/mlops/kafka/ca', file: 'ca.crt' },
  cert: { dir: '/etc/mlops/kafka/client-cert', file: 'tls.crt' },
  key: { dir: '/etc/mlops/kafka/client-key', file: 'tls.key' },
  password: { dir: '/etc/mlops/kafka/sasl', file: 'password' },
} as const;

/** The Secret key each `Runtime` Secret reference reads when it names none. */
export const KAFKA_SECRET_DEFAULT_KEYS = {
  ca: 'ca.crt',
  cert: 'tls.crt',
  key: 'tls.key',
  password: 'password',
} as const;

/** A process's Kafka security, as read from its flags and env. */
export interface KafkaSecuritySettings {
  /** Connect with TLS (implied by any of the files below). */
  readonly tls?: boolean;
  /** PEM CA certificates the brokers' certificates must chain to (else Node.js's trusted CAs). */
  readonly caFile?: string;
  /** PEM client certificate and key, for brokers that require mutual TLS. */
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly sasl?: {
    readonly mechanism: SaslMechanism;
    readonly username: string;
    /** The password itself (from an env var) or a file holding it. */
    readonly password?: string;
    readonly passwordFile?: string;
  };
}

/** What a settings check finds: the `Problem` form of the constructs, with field names per origin. */
export interface KafkaSecurityProblem {
  field: string;
  value?: unknown;
  message: string;
  fix: string;
}

/** Which settings are given, whatever their origin (Secret references, flags, env vars). */
export interface KafkaSecurityGiven {
  readonly cert: boolean;
  readonly key: boolean;
  readonly mechanism?: string;
  readonly user?: string;
  readonly password: boolean;
}

/**
 * Combinations that cannot work, named by `name(setting)` (a `Runtime` prop or a flag): an
 * unknown mechanism, a mechanism without a user or password, a password or user without a
 * mechanism, a client key without its certificate or the reverse.
 */
export function kafkaSecurityProblems(
  given: KafkaSecurityGiven,
  name: (key: KafkaSecurityKey) => string,
): KafkaSecurityProblem[] {
  const problems: KafkaSecurityProblem[] = [];
  if (given.key && !given.cert)
    problems.push({
      field: name('key'),
      message: `a client key without a client certificate (${name('cert')})`,
      fix: `give ${name('cert')} too, or leave out ${name('key')}`,
    });
  if (given.cert && !given.key)
    problems.push({
      field: name('cert'),
      message: `a client certificate without its private key (${name('key')})`,
      fix: `give ${name('key')} too, or leave out ${name('cert')}`,
    });
  const { mechanism } = given;
  if (mechanism === undefined) {
    if (given.user !== undefined || given.password)
      problems.push({
        field: name('mechanism'),
        message: 'a SASL user or password is given but no SASL mechanism',
        fix: `set ${name('mechanism')} to one of ${SASL_MECHANISMS.join(', ')}`,
      });
    return problems;
  }
  if (!isSaslMechanism(mechanism))
    problems.push({
      field: name('mechanism'),
      value: mechanism,
      message: 'is not a SASL mechanism the runtime speaks',
      fix: `use one of ${SASL_MECHANISMS.join(', ')}`,
    });
  if (!given.user)
    problems.push({
      field: name('user'),
      message: `SASL ${mechanism} needs a user name`,
      fix: `set ${name('user')}`,
    });
  if (!given.password)
    problems.push({
      field: name('password'),
      message: `SASL ${mechanism} needs a password`,
      fix: `set ${name('password')}`,
    });
  return problems;
}

export function isSaslMechanism(value: string): value is SaslMechanism {
  return (SASL_MECHANISMS as readonly string[]).includes(value);
}

/** Whether any setting asks for TLS. */
export function usesTls(s: KafkaSecuritySettings): boolean {
  return Boolean(s.tls || s.caFile || s.certFile || s.keyFile);
}

/** How a process names a setting in its errors: the `Runtime` prop, then the flag and env var. */
export function kafkaSettingHint(key: KafkaSecurityKey): string {
  const s: KafkaSecuritySetting = KAFKA_SECURITY[key];
  const local =
    key === 'password' || key === 'passwordFile'
      ? `--${KAFKA_SECURITY.passwordFile.flag} / ${KAFKA_SECURITY.passwordFile.env} / ${KAFKA_SECURITY.password.env}`
      : `--${s.flag} / ${s.env}`;
  return `${s.prop} (${local})`;
}

/** Reads settings from flag values (by flag name) and env vars; the password only from env or a file. */
export function kafkaSecurityFromValues(
  values: Readonly<Record<string, unknown>>,
  env: Readonly<Record<string, string | undefined>>,
): { settings: KafkaSecuritySettings; problems: KafkaSecurityProblem[] } {
  const read = (key: Exclude<KafkaSecurityKey, 'password'>): string | undefined => {
    const s = KAFKA_SECURITY[key];
    const v = values[s.flag];
    if (v === true) return 'true';
    if (typeof v === 'string' && v !== '') return v;
    return env[s.env] || undefined;
  };
  const tls = read('tls');
  const mechanism = read('mechanism')?.toLowerCase();
  const user = read('user');
  const passwordFile = read('passwordFile');
  const password = env[KAFKA_SECURITY.password.env] || undefined;
  const flagName = (key: KafkaSecurityKey) =>
    key === 'password'
      ? `--${KAFKA_SECURITY.passwordFile.flag} (or ${KAFKA_SECURITY.password.env})`
      : `--${KAFKA_SECURITY[key].flag}`;
  const problems = kafkaSecurityProblems(
    {
      cert: read('cert') !== undefined,
      key: read('key') !== undefined,
      mechanism,
      user,
      password: password !== undefined || passwordFile !== undefined,
    },
    flagName,
  );
  if (tls !== undefined && !['true', 'false', '1', '0'].includes(tls))
    problems.push({
      field: flagName('tls'),
      value: tls,
      message: 'is not true or false',
      fix: `set ${KAFKA_SECURITY.tls.env} to true or false`,
    });
  const settings: KafkaSecuritySettings = {
    tls: tls === 'true' || tls === '1',
    caFile: read('ca'),
    certFile: read('cert'),
    keyFile: read('key'),
    ...(mechanism && isSaslMechanism(mechanism)
      ? { sasl: { mechanism, username: user ?? '', password, passwordFile } }
      : {}),
  };
  return { settings, problems };
}
