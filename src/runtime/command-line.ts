// The command line of `mlops-runtime <component>`: one convention for every component's flags.
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** A bad command line: what is wrong, then how to call the component; no stack trace, exit 2. */
export function usageError(message: string, usage?: string): never {
  process.stderr.write(usage ? `${message}\n${usage}\n` : `${message}\n`);
  process.exit(2);
}

/**
 * Parses a component's flags. An unknown or malformed flag, or a flag of `wholeNumbers` whose value
 * is not a whole number (ports, counts, milliseconds), is a usage error naming every such flag.
 */
export function parseFlags<T extends ParseArgsConfig>(
  component: string,
  usage: string,
  config: T,
  wholeNumbers: readonly string[] = [],
): ReturnType<typeof parseArgs<T>> {
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    parsed = parseArgs(config);
  } catch (err) {
    return usageError(`${component}: ${(err as Error).message}`, usage);
  }
  const values = parsed.values as Record<string, unknown>;
  const bad = wholeNumbers.filter(
    (flag) => values[flag] !== undefined && !/^\d+$/.test(String(values[flag])),
  );
  if (bad.length > 0) {
    const problems = bad.map((flag) => `--${flag} must be a whole number, got "${values[flag]}"`);
    usageError(`${component}: ${problems.join('; ')}`, usage);
  }
  return parsed;
}
