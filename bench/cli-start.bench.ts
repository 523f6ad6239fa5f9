// Start-up of the compiled CLI: `mlops --help` (the bin npx runs) next to `node -e 0`, the cost of
// starting Node at all, measured in the same run. Needs `npm run build` first.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RUNS = 15;
const TARGET_MS = 300;
const bin = fileURLToPath(new URL('../bin/mlops.js', import.meta.url));

const variants = {
  'node -e 0': [process.execPath, '-e', '0'],
  'mlops --help': [process.execPath, bin, '--help'],
  'mlops synth --help': [process.execPath, bin, 'synth', '--help'],
} satisfies Record<string, string[]>;
type Variant = keyof typeof variants;

function once(variant: Variant): number {
  const [command, ...args] = variants[variant];
  const start = performance.now();
  const run = spawnSync(command, args, { stdio: 'ignore' });
  const ms = performance.now() - start;
  if (run.status !== 0) throw new Error(`${variant} failed (exit ${run.status})`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const times = Object.fromEntries(Object.keys(variants).map((v) => [v, [] as number[]])) as Record<
  Variant,
  number[]
>;
// Interleaved, so every variant sees the same background load.
for (let i = 0; i < RUNS; i++) for (const v of Object.keys(variants) as Variant[]) times[v].push(once(v));

const node = median(times['node -e 0']);
const help = median(times['mlops --help']);
const rows = (Object.keys(variants) as Variant[]).map(
  (v) => `| \`${v}\` | ${median(times[v]).toFixed(0)} ms | ${(median(times[v]) - node).toFixed(0)} ms |`,
);
process.stdout.write(
  [
    '## CLI start',
    '',
    `Median wall time of ${RUNS} interleaved runs, each a new process; \`npx\` adds npm's own start on top.`,
    '',
    '| command | wall time | over `node -e 0` |',
    '| --- | ---: | ---: |',
    ...rows,
    '',
    `- \`mlops --help\`: ${help.toFixed(0)} ms (target ≤ ${TARGET_MS} ms: ${help <= TARGET_MS ? 'met' : '**missed**'})`,
    '',
  ].join('\n'),
);
