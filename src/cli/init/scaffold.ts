// `mlops init`: the files of a new repository, and writing them only where nothing is lost.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CliError } from '../errors.ts';
import * as t from './templates.ts';

export interface InitOptions {
  /** Environments, one app and output folder each; none: a single apps/main.ts. */
  env?: string[];
  /** Write into a non-empty directory, overwriting files of the same names. */
  force?: boolean;
}

const ENV_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The scaffold's files, by path relative to the new repository. */
export function scaffoldFiles(name: string, options: InitOptions, versions: t.Versions): Map<string, string> {
  const envs = options.env ?? [];
  const bad = envs.find((e) => !ENV_NAME.test(e));
  if (bad !== undefined) {
    throw new CliError(
      `--env ${bad}: environment names are lower-case letters, digits and '-' (they name folders and namespaces)`,
      2,
    );
  }
  const apps = envs.length > 0 ? envs : ['main'];
  const files = new Map<string, string>([
    ['package.json', t.packageJson(name, versions)],
    ['tsconfig.json', t.tsconfig()],
    ['cdk8s.yaml', t.cdk8sYaml(versions.mlops)],
    ['.gitignore', t.gitignore()],
    ['README.md', t.readme(name, apps)],
    ['.github/workflows/mlops.yml', t.workflow()],
  ]);
  if (envs.length === 0) files.set('apps/main.ts', t.mainApp());
  else {
    files.set('apps/_serving.ts', t.sharedServing());
    for (const env of envs) files.set(`apps/${env}.ts`, t.environmentApp(env));
  }
  return files;
}

/** Writes the scaffold into dir; refuses a non-empty dir unless forced. Returns the paths written. */
export function scaffold(dir: string, options: InitOptions): string[] {
  const root = resolve(dir);
  if (existsSync(root) && !options.force) {
    const present = readdirSync(root);
    if (present.length > 0) {
      const shown = present.slice(0, 5).join(', ') + (present.length > 5 ? ', ...' : '');
      throw new CliError(
        `${dir} is not empty (${shown}): init would overwrite files of the same names; pass --force to write anyway, or choose an empty directory`,
        2,
      );
    }
  }
  const files = scaffoldFiles(packageName(root), options, currentVersions());
  for (const [path, content] of files) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return [...files.keys()];
}

/** An npm package name from the directory's name. */
function packageName(root: string): string {
  const name = basename(root)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+/, '');
  return name || 'ml-serving';
}

/** This package's version and its peers pinned to the lowest version its ranges accept. */
export function currentVersions(): t.Versions {
  // the same relative path from src/cli/init/ and from the compiled lib/cli/init/
  const own = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
    peerDependencies: Record<string, string>;
  };
  const dependencies = Object.fromEntries(
    Object.entries(own.peerDependencies).map(([n, range]) => [n, range.replace(/^[\^~>=]+/, '')]),
  );
  return { mlops: own.version, dependencies, devDependencies: { ...t.TOOL_VERSIONS } };
}
