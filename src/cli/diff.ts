import { type Command, Option } from 'commander';
import { compareManifests, hasDifferences } from '../review/diff/compare.ts';
import { type DiffFormat, renderDiff } from '../review/diff/render-diff.ts';
import { loadManifests, loadManifestsAtRef, type Manifest, ManifestError } from '../review/manifests.ts';
import { CliError, warnSkipped } from './errors.ts';

interface DiffOptions {
  base?: string;
  live?: boolean;
  kubeconfig?: string;
  context?: string;
  format: DiffFormat;
  title?: string;
  maxChars?: string;
  exitCode: boolean;
}

export function register(program: Command): void {
  program
    .command('diff')
    .description(
      'semantic diff of manifests: two directories, the committed dist at a git ref vs the working tree, or desired vs live cluster',
    )
    .argument(
      '[paths...]',
      'BASE HEAD (two directories or files); with --base or --live: the directory (default dist)',
    )
    .option('--base <ref>', 'compare DIR as committed at this git ref with DIR in the working tree')
    .option('--live', 'compare DIR with the objects in the cluster (fields the cluster adds are ignored)')
    .option('--kubeconfig <file>', 'kubeconfig for --live (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context for --live')
    .addOption(
      new Option('--format <format>', 'output format').choices(['text', 'markdown', 'json']).default('text'),
    )
    .option('--title <text>', 'markdown: title prefix, e.g. the environment')
    .option('--max-chars <n>', 'markdown: truncate the comment to this many characters', '60000')
    .option('--no-exit-code', 'exit 0 even when there are differences')
    .addHelpText(
      'after',
      '\nExit status: 0 no differences, 1 differences, 2 error.\n\nExamples:\n  mlops diff old/ new/\n  mlops diff --base origin/main --format markdown\n  mlops diff --live dist/prod --context prod',
    )
    .action(async (paths: string[], opts: DiffOptions) => {
      const { base, head } = await sides(paths, opts);
      const result = (() => {
        try {
          return compareManifests(base, head);
        } catch (err) {
          if (err instanceof ManifestError) throw new CliError(err.message, 2, { cause: err });
          throw err;
        }
      })();
      const maxChars = Number(opts.maxChars);
      if (!Number.isInteger(maxChars) || maxChars < 1000)
        throw new CliError('--max-chars must be an integer ≥ 1000', 2);
      process.stdout.write(renderDiff(result, opts.format, { title: opts.title, maxChars }));
      process.exitCode = hasDifferences(result) && opts.exitCode ? 1 : 0;
    });
}

const load = { warn: warnSkipped };

async function sides(paths: string[], opts: DiffOptions): Promise<{ base: Manifest[]; head: Manifest[] }> {
  if (opts.base && opts.live) throw new CliError('use either --base or --live, not both', 2);
  try {
    if (opts.base || opts.live) {
      if (paths.length > 1)
        throw new CliError(
          `with --${opts.base ? 'base' : 'live'}, give at most one directory (got ${paths.length})`,
          2,
        );
      const dir = paths[0] ?? 'dist';
      const head = loadManifests([dir], load);
      if (opts.base) return { base: loadManifestsAtRef(opts.base, dir, undefined, load), head };
      // Loaded on demand: the Kubernetes client is heavy and only --live needs it.
      const { liveComparison } = await import('../review/diff/live.ts');
      return await liveComparison(head, { kubeconfig: opts.kubeconfig, context: opts.context });
    }
    if (paths.length !== 2) {
      throw new CliError('give two directories or files (BASE HEAD), or --base GIT_REF, or --live', 2);
    }
    return { base: loadManifests([paths[0]], load), head: loadManifests([paths[1]], load) };
  } catch (err) {
    if (err instanceof ManifestError || (err instanceof Error && err.name === 'LiveError')) {
      throw new CliError(err.message, 2, { cause: err });
    }
    throw err;
  }
}
