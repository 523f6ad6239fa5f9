/** An error meant for a terminal: printed without a stack trace, with a chosen exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** A file a command passed over (a FIFO among the manifests, say): said on stderr, not fatal. */
export function warnSkipped(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}
