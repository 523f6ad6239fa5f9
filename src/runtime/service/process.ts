// What every `mlops-runtime` component does as a process: read its command line, log, listen,
// and stop gracefully on SIGTERM or SIGINT.
import type http from 'node:http';
import type http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { type Component, FlagError, type FlagValues, parseFlags, usage } from '../../spec/flags.ts';

/** A bad command line: what is wrong, then how to call the component; no stack trace, exit 2. */
export function usageError(message: string, usageText?: string): never {
  process.stderr.write(usageText ? `${message}\n${usageText}\n` : `${message}\n`);
  process.exit(2);
}

/**
 * The component's flags from `argv` and the environment; a bad flag is a usage error. With
 * `--help` it prints the usage and returns undefined: the caller then returns without starting.
 */
export function commandLine<C extends Component>(
  component: C,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): FlagValues<C> | undefined {
  let values: FlagValues<C>;
  try {
    values = parseFlags(component, argv, env);
  } catch (err) {
    if (err instanceof FlagError) usageError(err.message, usage(component));
    throw err;
  }
  if ((values as { help?: boolean }).help) {
    process.stdout.write(`${usage(component)}\n`);
    return undefined;
  }
  return values;
}

/** The structured (JSON lines) logger of a component; `base` fields go on every line. */
export function createLogger(
  component: Component,
  level: string,
  base: Record<string, unknown> = {},
): Logger {
  return pino({ level, base: { component, ...base } });
}

/** Runs `stop` on the first SIGTERM or SIGINT, then exits: 0, or 1 if stopping failed. */
export function stopOnSignal(stop: () => Promise<void>, log: Logger): void {
  const onSignal = () => {
    stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

/** Listens on `port` (0 = any free one) and resolves to the port listened on. */
export function listen(
  server: http.Server | http2.Http2Server,
  port: number,
  host?: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Closes an HTTP/1 server, ending its idle keep-alive connections rather than waiting for them. */
export function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
