import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { appName, discoverApps } from '../synth/load-apps.ts';
import {
  diffOutput,
  isUpToDate,
  managedFileCount,
  type OutputDiff,
  outputFolders,
  type SynthFiles,
  writeOutput,
  writeOutputs,
} from '../synth/output.ts';
import { AppRunError, DEFAULT_APP_TIMEOUT_SECONDS, runApp } from '../synth/run-app.ts';
import { SYNTH_TARGETS, type SynthTarget } from '../synth/synthesize.ts';
import { CliError } from './errors.ts';

export interface SynthCommandOptions {
  app?: string;
  out?: string;
  check?: boolean;
  target?: SynthTarget;
  verbose?: boolean;
  /** Seconds each app may take (commander passes the flag's text). */
  timeout?: number | string;
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
    .option(
      '--timeout <seconds>',
      'stop an app that takes longer than this to load and synthesize',
      String(DEFAULT_APP_TIMEOUT_SECONDS),
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

  const timeoutSeconds = Number(options.timeout ?? DEFAULT_APP_TIMEOUT_SECONDS);
  if (!(timeoutSeconds > 0))
    throw new CliError(`--timeout ${options.timeout}: give a number of seconds above 0`, 2);

  // Each app runs in a process of its own, as many at once as there are CPUs.
  const outcomes = await inParallel(jobs, availableParallelism(), (job) =>
    runApp(job.file, { target: options.target, timeoutSeconds }),
  );
  const results: { job: Job; files: SynthFiles }[] = [];
  const failures: AppRunError[] = [];
  outcomes.forEach((o, i) => {
    if (o.ok) results.push({ job: jobs[i], files: o.value });
    else failures.push(o.error instanceof AppRunError ? o.error : new AppRunError('error', String(o.error)));
  });
  if (failures.length > 0) {
    const text = failures.map((f) => describeFailure(f, options.verbose === true)).join('\n\n');
    // An app's own problems exit 1; an app that cannot run at all is an error, exit 2.
    throw new CliError(`${text}\n\nNothing was written.`, failures.some((f) => f.kind === 'error') ? 2 : 1);
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

function describeFailure(err: AppRunError, verbose: boolean): string {
  return verbose && err.detail ? `${err.message}\n${err.detail}` : err.message;
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** `run` over every item, at most `limit` at a time; results in the items' order. */
async function inParallel<I, T>(
  items: I[],
  limit: number,
  run: (item: I) => Promise<T>,
): Promise<Settled<T>[]> {
  const out: Settled<T>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = { ok: true, value: await run(items[i]) };
      } catch (error) {
        out[i] = { ok: false, error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function write(
  results: { job: Job; files: SynthFiles }[],
  orphans: string[],
  root: string | undefined,
): void {
  const report = (dir: string, files: SynthFiles, diff: OutputDiff) => {
    const written = diff.missing.length + diff.changed.length;
    const unchanged = files.size - written;
    print(
      `${dir}: ${files.size} files (${written} written, ${diff.stale.length} removed, ${unchanged} unchanged)`,
    );
  };
  if (!root) {
    for (const { job, files } of results) report(job.dir, files, writeOutput(job.dir, files));
    return;
  }
  // All apps' folders are swapped in at once: a killed run leaves the old dist/ or the new one.
  const removed = orphans.map((name) => managedFileCount(join(root, name)));
  const folders = new Map(results.map(({ job, files }) => [appName(job.file), files]));
  const diffs = writeOutputs(root, folders, orphans);
  for (const { job, files } of results) report(job.dir, files, diffs.get(appName(job.file)) as OutputDiff);
  orphans.forEach((name, i) => {
    print(`${join(root, name)}: removed ${removed[i]} files of an app that no longer exists`);
  });
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
