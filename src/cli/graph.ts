import { type Command, Option } from 'commander';
import { renderDot, renderMermaid } from '../review/graph/graph-render.ts';
import { pipelineGraph } from '../review/graph/pipeline-graph.ts';
import { loadManifests, ManifestError } from '../review/manifests.ts';
import { isMlopsApiVersion } from '../spec/objects.ts';
import type { KubeObject, PipelineSpec } from '../spec/types.ts';
import { CliError } from './errors.ts';

interface GraphOptions {
  app?: string;
  dir: string[];
  namespace?: string;
  format: 'mermaid' | 'dot';
}

export function register(program: Command): void {
  program
    .command('graph')
    .description(
      'draw a pipeline: steps, tensor-labelled data edges, dashed trigger edges, joins, external inputs',
    )
    .argument('<pipeline>', 'pipeline name')
    .option('--app <file>', 'synthesize this app and draw from its objects')
    .option('--dir <path...>', 'manifest directories or files to read (default: dist)')
    .option('-n, --namespace <ns>', 'namespace of the pipeline, when several share its name')
    .addOption(
      new Option('--format <format>', 'output format').choices(['mermaid', 'dot']).default('mermaid'),
    )
    .addHelpText(
      'after',
      '\nExamples:\n  mlops graph fraud --dir dist/prod\n  mlops graph fraud --app apps/prod.ts --format dot | dot -Tsvg > fraud.svg',
    )
    .action(async (name: string, opts: GraphOptions) => {
      if (opts.app && opts.dir) throw new CliError('use either --app or --dir, not both', 2);
      const objects = opts.app ? await appObjects(opts.app) : dirObjects(opts.dir ?? ['dist']);
      const pipelines = objects.filter((o) => o.kind === 'Pipeline' && isMlopsApiVersion(o.apiVersion));
      const found = pipelines.filter(
        (o) =>
          o.metadata.name === name &&
          (opts.namespace === undefined || (o.metadata.namespace ?? '') === opts.namespace),
      );
      const where = opts.app ?? (opts.dir ?? ['dist']).join(', ');
      if (found.length === 0) {
        const have = pipelines.map(
          (p) => `${p.metadata.namespace ? `${p.metadata.namespace}/` : ''}${p.metadata.name}`,
        );
        throw new CliError(
          `no Pipeline ${opts.namespace ? `${opts.namespace}/` : ''}${name} in ${where}; ${have.length ? `pipelines: ${[...new Set(have)].sort().join(', ')}` : 'it has no pipelines'}`,
          2,
        );
      }
      if (found.length > 1) {
        const nss = found.map((p) => p.metadata.namespace ?? '(none)').join(', ');
        throw new CliError(
          `Pipeline ${name} exists in several namespaces (${nss}); pick one with --namespace`,
          2,
        );
      }
      const graph = pipelineGraph(name, (found[0].spec ?? { steps: [] }) as PipelineSpec);
      process.stdout.write(opts.format === 'dot' ? renderDot(graph) : renderMermaid(graph));
    });
}

function dirObjects(paths: string[]): KubeObject[] {
  try {
    return loadManifests(paths).map((m) => m.object);
  } catch (err) {
    if (err instanceof ManifestError) throw new CliError(err.message, 2, { cause: err });
    throw err;
  }
}

async function appObjects(file: string): Promise<KubeObject[]> {
  // Loaded on demand: drawing from manifests needs no construct library.
  const { loadApp, AppLoadError } = await import('../synth/load-apps.ts');
  const { synthesizeObjects, SynthError } = await import('../synth/synthesize.ts');
  try {
    return synthesizeObjects(await loadApp(file), { target: 'seldon' }).map(
      (o) => o.manifest as unknown as KubeObject,
    );
  } catch (err) {
    if (err instanceof AppLoadError || err instanceof SynthError)
      throw new CliError(err.message, 2, { cause: err });
    throw err;
  }
}
