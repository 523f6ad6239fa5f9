import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { AppLoadError, appName, discoverApps, loadApp } from '../synth/load-apps.ts';
import {
  clearOutput,
  diffOutput,
  isUpToDate,
  type OutputDiff,
  outputFolders,
  type SynthFiles,
  writeOutput,
} from '../synth/output.ts';
import { SYNTH_TARGETS, SynthError, type SynthTarget, synthesizeApp } from '../synth/synthesize.ts';
import { CliError } from './errors.ts';

export interface SynthCommandOptions {
  app?: string;
  out?: string;
  check?: boolean;
  target?: SynthTarget;
  verbose?: boolean;
}

export function register(program: Command): void {
  program
    .command('synth')
    .description('synthesize apps to YAML: every apps/<app>.ts to dist/<app>/ (or one app with --app)')
    .option('--app <file>', 'synthesize only this app file')
    .option('--out <dir>', "with --app: the app's output folder; without: the root of all app folders")
    .option('--check', 'write nothing; exit 1 if the output differs from a fresh synthesis (for CI)')
    .addOption(
      new Option(
        '--target <target>',
        'runtime: everything plus CRDs; seldon: only the mlops.seldon.io resources',
      )
        .choices(SYNTH_TARGETS)
        .default('runtime'),
    )
    // Usage errors exit 2 (commander's default is 1, which here means "invalid app" or "out of date").
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
    .action(async (_opts, cmd: Command) => {
      await synthCommand(cmd.optsWithGlobals());
    });
}

interface Job {
  file: string;
  dir: string;
}

/** `mlops synth`: loads and synthesizes every app first, then writes (or checks) all of them. */
export async function synthCommand(options: SynthCommandOptions): Promise<void> {
  const root = options.app ? undefined : (options.out ?? (process.env.CDK8S_OUTDIR || 'dist'));
  const jobs = planJobs(options, root);

  const results: { job: Job; files: SynthFiles }[] = [];
  const errors: string[] = [];
  for (const job of jobs) {
    try {
      const app = await loadApp(job.file);
      results.push({ job, files: synthesizeApp(app, { target: options.target }) });
    } catch (err) {
      errors.push(describeFailure(job.file, err, options.verbose === true));
    }
  }
  if (errors.length > 0) {
    throw new CliError(`${errors.join('\n\n')}\n\nNothing was written.`, 1);
  }

  const names = new Set(jobs.map((j) => appName(j.file)));
  const orphans = root ? outputFolders(root).filter((name) => !names.has(name)) : [];
  if (options.check) check(results, orphans, root);
  else write(results, orphans, root);
}

function planJobs(options: SynthCommandOptions, root: string | undefined): Job[] {
  if (options.app) {
    if (!existsSync(options.app)) throw new CliError(`--app ${options.app}: no such file`, 2);
    return [
      {
        file: options.app,
        dir: options.out ?? join(process.env.CDK8S_OUTDIR || 'dist', appName(options.app)),
      },
    ];
  }
  const apps = discoverApps('apps');
  if (apps.length === 0) {
    throw new CliError('no apps found: create apps/<name>.ts (see the README), or pass --app FILE', 2);
  }
  const clash = apps.find((a, i) => apps.findIndex((b) => b.name === a.name) !== i);
  if (clash) {
    const files = apps.filter((a) => a.name === clash.name).map((a) => a.file);
    throw new CliError(
      `${files.join(' and ')} would both write ${join(root as string, clash.name)}: rename one`,
      2,
    );
  }
  return apps.map((a) => ({ file: a.file, dir: join(root as string, a.name) }));
}

function describeFailure(file: string, err: unknown, verbose: boolean): string {
  if (err instanceof SynthError) return `${file}: synthesis failed, ${err.message.trimEnd()}`;
  const cause = err instanceof AppLoadError ? err.cause : err;
  const message = err instanceof AppLoadError ? err.message : `${file}: ${String(err)}`;
  if (verbose && cause instanceof Error && cause.stack) return `${message}\n${cause.stack}`;
  return message;
}

function write(
  results: { job: Job; files: SynthFiles }[],
  orphans: string[],
  root: string | undefined,
): void {
  for (const { job, files } of results) {
    const diff = writeOutput(job.dir, files);
    const written = diff.missing.length + diff.changed.length;
    const unchanged = files.size - written;
    print(
      `${job.dir}: ${files.size} files (${written} written, ${diff.stale.length} removed, ${unchanged} unchanged)`,
    );
  }
  for (const name of orphans) {
    const dir = join(root as string, name);
    print(`${dir}: removed ${clearOutput(dir).length} files of an app that no longer exists`);
  }
}

function check(
  results: { job: Job; files: SynthFiles }[],
  orphans: string[],
  root: string | undefined,
): void {
  let stale = 0;
  for (const { job, files } of results) {
    const diff = diffOutput(job.dir, files);
    if (isUpToDate(diff)) {
      print(`${job.dir}: up to date (${files.size} files)`);
    } else {
      stale++;
      print(`${job.dir}: out of date\n${describeDiff(diff)}`);
    }
  }
  for (const name of orphans) {
    stale++;
    print(`${join(root as string, name)}: output of an app that no longer exists (apps/${name}.*)`);
  }
  if (stale > 0) {
    throw new CliError('synthesized output is out of date: run `npx mlops synth` and commit the result', 1);
  }
}

function describeDiff(diff: OutputDiff): string {
  return [
    ...diff.missing.map((f) => `  missing  ${f}`),
    ...diff.changed.map((f) => `  changed  ${f}`),
    ...diff.stale.map((f) => `  stale    ${f}`),
  ].join('\n');
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}
