import type { Command } from 'commander';
import { scaffold } from './scaffold.ts';

export function register(program: Command): void {
  program
    .command('init')
    .description(
      'scaffold a repository: package.json, tsconfig.json, cdk8s.yaml, apps/, a README and a GitHub Actions workflow',
    )
    .argument('[dir]', 'the directory to create or fill', '.')
    .option(
      '--env <names>',
      'one app and output folder per environment, comma-separated, e.g. dev,staging,prod',
      (v: string) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
    )
    .option('--force', 'write into a non-empty directory, overwriting files of the same names')
    .addHelpText('after', '\nExamples:\n  mlops init serving\n  mlops init serving --env dev,staging,prod')
    .action((dir: string, opts: { env?: string[]; force?: boolean }) => {
      const written = scaffold(dir, opts);
      process.stdout.write(
        `${written.map((f) => `  ${f}`).join('\n')}\n\nNext: cd ${dir} && npm install && npx mlops synth && npx mlops validate dist\n`,
      );
    });
}
