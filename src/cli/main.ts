import { Command } from 'commander';
import { CliError } from './errors.ts';

// Each sub-command lives in its own module and adds itself to the program.
const commands: Array<() => Promise<{ register(program: Command): void }>> = [
  () => import('./synth.ts'),
  () => import('./validate.ts'),
  () => import('./diff.ts'),
  () => import('./graph.ts'),
  () => import('./import.ts'),
  () => import('./dev/command.ts'),
  () => import('./infer/command.ts'),
  () => import('./inspect/command.ts'),
];

const program = new Command('mlops')
  .description('ML model serving as code: synthesize, review and run Seldon Core 2 resources')
  .option('--verbose', 'print stack traces for errors')
  .showHelpAfterError();

for (const load of commands) (await load()).register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = reportError(err, program.opts().verbose === true);
}

function reportError(err: unknown, verbose: boolean): number {
  if (err instanceof CliError) {
    process.stderr.write(`${err.message}\n`);
    if (verbose && err.cause instanceof Error) process.stderr.write(`${err.cause.stack}\n`);
    return err.exitCode;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(verbose ? `${e.stack}\n` : `error: ${e.message}\n(run with --verbose for details)\n`);
  return 2;
}
