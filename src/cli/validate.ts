import { type Command, Option } from 'commander';
import { loadManifests, ManifestError } from '../review/manifests.ts';
import { renderFindingsJson, renderFindingsText } from '../review/validate/findings.ts';
import { CliError, warnSkipped } from './errors.ts';

interface ValidateOptions {
  format: 'text' | 'json';
  external?: string[];
  ignoreMissingSchemas?: boolean;
  policy: boolean;
}

export function register(program: Command): void {
  program
    .command('validate')
    .description(
      'check manifests without a cluster: CRD and Kubernetes schemas (strict), cross-object references, workload policy',
    )
    .argument('[paths...]', 'directories or files of manifests', ['dist'])
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option(
      '--external <names>',
      'objects declared elsewhere, comma-separated: name, Kind/name or Kind/namespace/name (repeatable)',
      (value: string, previous: string[] = []) => [
        ...previous,
        ...value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ],
    )
    .option('--ignore-missing-schemas', 'skip kinds with no known schema instead of reporting them')
    .option('--no-policy', 'skip the workload policy checks')
    .addHelpText(
      'after',
      '\nExit status: 0 no findings, 1 findings, 2 error.\n\nExamples:\n  mlops validate dist\n  mlops validate dist/prod --external Model/shared-embedder,Pipeline/ingest --format json',
    )
    .action(async (paths: string[], opts: ValidateOptions) => {
      let manifests: ReturnType<typeof loadManifests>;
      const oversized: Array<[string, number]> = [];
      try {
        manifests = loadManifests(paths, {
          warn: warnSkipped,
          oversized: (file, bytes) => oversized.push([file, bytes]),
        });
      } catch (err) {
        if (err instanceof ManifestError) throw new CliError(err.message, 2, { cause: err });
        throw err;
      }
      if (manifests.length + oversized.length === 0)
        throw new CliError(`no manifests found in ${paths.join(', ')}`, 2);
      // Loaded on demand: the schemas are large and other commands do not need them.
      const { validateManifests, oversizedFileFinding } = await import('../review/validate/validate.ts');
      const findings = [
        ...oversized.map(([file, bytes]) => oversizedFileFinding(file, bytes)),
        ...validateManifests(manifests, {
          external: opts.external,
          ignoreMissingSchemas: opts.ignoreMissingSchemas,
          skipPolicy: !opts.policy,
        }),
      ];
      const render = opts.format === 'json' ? renderFindingsJson : renderFindingsText;
      process.stdout.write(render(findings, manifests.length));
      process.exitCode = findings.length ? 1 : 0;
    });
}
