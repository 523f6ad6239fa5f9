// Runs every bench/*.bench.ts in its own process (so peak memory is per benchmark), prints each
// report and collects them into docs/BENCHMARKS.md.
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const only = process.argv.slice(2);
const benches = readdirSync('bench')
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
const sections: string[] = [];
let failed = 0;
for (const file of benches) {
  process.stdout.write(`\n== ${file}\n`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', join('bench', file)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 15 * 60_000,
  });
  process.stdout.write(run.stdout ?? '');
  if (run.status !== 0) failed++;
  sections.push(run.status === 0 ? run.stdout.trim() : `## ${file}\n\nfailed (exit ${run.status})`);
}
if (only.length === 0) {
  writeFileSync(
    'docs/BENCHMARKS.md',
    `# Benchmarks\n\nWritten by \`npm run bench\` on a 2-core machine; every figure is compared with a baseline measured in the same run.\n\n${sections.join('\n\n')}\n`,
  );
}
process.exitCode = failed ? 1 : 0;
