import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { loadManifests, ManifestError } from '../review/manifests.ts';
import { CliError } from './errors.ts';

export function register(program: Command): void {
  program
    .command('import')
    .description(
      'turn Seldon Core 2 YAML (models, servers, server configs, pipelines, experiments) into a TypeScript app',
    )
    .argument('<files...>', 'YAML files or directories')
    .option('-o, --out <file>', 'write the app here (default: standard output)')
    .addHelpText(
      'after',
      '\nObjects referenced but not in the input become `fromName` references.\n\nExample:\n  mlops import k8s/seldon/*.yaml -o apps/prod.ts && mlops synth --app apps/prod.ts --out dist/prod',
    )
    .action(async (files: string[], opts: { out?: string }) => {
      // Loaded on demand: the checks pull in the construct library.
      const { checkImport, ImportError } = await import('../review/import/check.ts');
      const { generateApp } = await import('../review/import/codegen.ts');
      let source: string;
      try {
        const manifests = loadManifests(files);
        if (manifests.length === 0) throw new CliError(`no objects found in ${files.join(', ')}`, 2);
        checkImport(manifests);
        source = generateApp(
          manifests.map((m) => m.object),
          { sources: files.map((f) => basename(f)) },
        );
      } catch (err) {
        if (err instanceof ManifestError || err instanceof ImportError)
          throw new CliError(err.message, 2, { cause: err });
        throw err;
      }
      if (opts.out) writeFileSync(opts.out, source);
      else process.stdout.write(source);
    });
}
