/**
 * The Kafka TLS and SASL options `mlops dev` and `mlops inspect` share: the same flags and env
 * vars as `mlops-runtime dataflow`, from one table in spec. The password is read from
 * MLOPS_KAFKA_PASSWORD or a file only, so it never shows in a command line or in output.
 */
import type { Command } from 'commander';
import { COMPONENT_FLAGS } from '../spec/flags.ts';
import {
  KAFKA_SECURITY,
  type KafkaSecuritySettings,
  kafkaSecurityFromValues,
} from '../spec/kafka-security.ts';
import { CliError } from './errors.ts';

const FLAGS = [
  KAFKA_SECURITY.tls,
  KAFKA_SECURITY.ca,
  KAFKA_SECURITY.cert,
  KAFKA_SECURITY.key,
  KAFKA_SECURITY.mechanism,
  KAFKA_SECURITY.user,
  KAFKA_SECURITY.passwordFile,
];

export function addKafkaSecurityOptions(command: Command): Command {
  const table: Record<string, { help: string; value?: string }> = COMPONENT_FLAGS.dataflow;
  for (const { flag, env } of FLAGS) {
    const { help, value } = table[flag];
    const fromEnv = help.includes(env) ? help : `${help} (default: $${env})`;
    command.option(value ? `--${flag} <${value.toLowerCase()}>` : `--${flag}`, fromEnv);
  }
  return command;
}

/** Commander's camelCase option names back to the flag names. */
const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The settings from options and env; a combination that cannot work is a usage error (exit 2). */
export function kafkaSecurityFromOptions(
  command: string,
  opts: Readonly<Record<string, unknown>>,
  env: NodeJS.ProcessEnv,
): KafkaSecuritySettings {
  const values = Object.fromEntries(FLAGS.map(({ flag }) => [flag, opts[camel(flag)]]));
  const { settings, problems } = kafkaSecurityFromValues(values, env);
  if (problems.length > 0)
    throw new CliError(
      problems
        .map(
          (p) =>
            `${command}: ${p.field}${p.value === undefined ? '' : ` "${p.value}"`} ${p.message}; ${p.fix}`,
        )
        .join('\n'),
      2,
    );
  return settings;
}

/** The flags that hand `settings` to a runtime component (the password stays in the env). */
export function kafkaSecurityArgv(s: KafkaSecuritySettings): Record<string, string | boolean | undefined> {
  return {
    [KAFKA_SECURITY.tls.flag]: s.tls || undefined,
    [KAFKA_SECURITY.ca.flag]: s.caFile,
    [KAFKA_SECURITY.cert.flag]: s.certFile,
    [KAFKA_SECURITY.key.flag]: s.keyFile,
    [KAFKA_SECURITY.mechanism.flag]: s.sasl?.mechanism,
    [KAFKA_SECURITY.user.flag]: s.sasl?.username,
    [KAFKA_SECURITY.passwordFile.flag]: s.sasl?.passwordFile,
  };
}
