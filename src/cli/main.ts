import { Command } from 'commander';
import { CliError } from './errors.ts';

interface CommandEntry {
  /** The one line `mlops --help` shows; the module's own description, which `mlops <command> --help` shows. */
  summary: string;
  /** The module that defines the command (options, help, action) and adds it to the program. */
  load: () => Promise<{ register(program: Command): void }>;
}

// Loading a command's module loads what it runs (cdk8s, kafkajs, ...), so only the invoked one is
// loaded: `mlops --help` and every command start without the others' libraries.
const COMMANDS: Record<string, CommandEntry> = {
  init: {
    summary:
      'scaffold a repository: package.json, tsconfig.json, cdk8s.yaml, apps/, a README and a GitHub Actions workflow',
    load: () => import('./init/command.ts'),
  },
  synth: {
    summary: 'synthesize apps to YAML: every apps/<app>.ts to dist/<app>/ (or one app with --app)',
    load: () => import('./synth.ts'),
  },
  validate: {
    summary:
      'check manifests without a cluster: CRD and Kubernetes schemas (strict), cross-object references, workload policy',
    load: () => import('./validate.ts'),
  },
  diff: {
    summary:
      'semantic diff of manifests: two directories, the committed dist at a git ref vs the working tree, or desired vs live cluster',
    load: () => import('./diff.ts'),
  },
  graph: {
    summary:
      'draw a pipeline: steps, tensor-labelled data edges, dashed trigger edges, joins, external inputs',
    load: () => import('./graph.ts'),
  },
  import: {
    summary:
      'turn Seldon Core 2 YAML (models, servers, server configs, pipelines, experiments) into a TypeScript app',
    load: () => import('./import.ts'),
  },
  dev: {
    summary:
      'run the runtime on this machine against dist/<app> (or DIR): scheduler, an agent and MLServer per server replica, gateway and dataflow',
    load: () => import('./dev/command.ts'),
  },
  infer: {
    summary: 'send an Open Inference Protocol request to a model, pipeline or experiment through the gateway',
    load: () => import('./infer/command.ts'),
  },
  'argocd-health': {
    summary:
      'print the argocd-cm entries that give Argo CD health checks (Lua) for every mlops.seldon.io kind',
    load: () => import('./argocd-health.ts'),
  },
  inspect: {
    summary: "print the latest messages of a pipeline's Kafka topics, with their tensors decoded",
    load: () => import('./inspect/command.ts'),
  },
};

const program = new Command('mlops')
  .description('ML model serving as code: synthesize, review and run Seldon Core 2 resources')
  .option('--verbose', 'print stack traces for errors')
  .showHelpAfterError();

const invoked = invokedCommand(process.argv.slice(2));
if (invoked !== undefined) {
  (await COMMANDS[invoked].load()).register(program);
} else {
  // No known command (`mlops --help`, a typo): list them all, with commander's suggestions.
  for (const [name, entry] of Object.entries(COMMANDS)) program.command(name).summary(entry.summary);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = reportError(err, program.opts().verbose === true);
}

/** The command named on the command line (`mlops [--verbose] [help] <command> ...`), if known. */
function invokedCommand(args: string[]): string | undefined {
  const words = args.filter((a) => !a.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  return name !== undefined && Object.hasOwn(COMMANDS, name) ? name : undefined;
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
