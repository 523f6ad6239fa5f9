// Start-up of the compiled CLI: `mlops --help` (the bin npx runs) next to `node -e 0`, the cost of
// starting Node at all, and the same through npx next to npx running `node -e 0`, the cost of
// npm's own start, all measured in the same run. Needs `npm run build` first.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RUNS = 15;
const TARGET_MS = 300;
const bin = fileURLToPath(new URL('../bin/mlops.js', import.meta.url));

const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const variants = {
  'node -e 0': [process.execPath, '-e', '0'],
  'mlops --help': [process.execPath, bin, '--help'],
  'mlops synth --help': [process.execPath, bin, 'synth', '--help'],
  // npx resolves `mlops` to this package's bin, as in a project that installed it.
  'npx node -e 0': [npx, '--no-install', 'node', '-e', '0'],
  'npx mlops --help': [npx, '--no-install', 'mlops', '--help'],
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
const npxNode = median(times['npx node -e 0']);
const npxHelp = median(times['npx mlops --help']);
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
    `- \`npx mlops --help\`: ${npxHelp.toFixed(0)} ms (target ≤ ${TARGET_MS} ms: ${npxHelp <= TARGET_MS ? 'met' : '**missed**'}); npx alone, running \`node -e 0\`, takes ${npxNode.toFixed(0)} ms, so the CLI's own share through npx is ${(npxHelp - npxNode).toFixed(0)} ms`,
    '',
  ].join('\n'),
);
