// What `npm install cdk8s-mlops` downloads: the packed tarball and what it unpacks to, by top-level
// folder, from `npm pack --dry-run` on the built package. No target: a figure for the docs and a
// trend to watch.
import { spawnSync } from 'node:child_process';

interface Packed {
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string; size: number }[];
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = spawnSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8' });
if (run.status !== 0) throw new Error(`npm pack failed: ${run.stderr}`);
const [packed] = JSON.parse(run.stdout) as Packed[];

const byFolder = new Map<string, { files: number; bytes: number }>();
for (const f of packed.files) {
  const top = f.path.includes('/') ? `${f.path.split('/')[0]}/` : f.path;
  const entry = byFolder.get(top) ?? { files: 0, bytes: 0 };
  entry.files++;
  entry.bytes += f.size;
  byFolder.set(top, entry);
}
const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
const rows = [...byFolder]
  .sort((a, b) => b[1].bytes - a[1].bytes)
  .map(([name, e]) => `| \`${name}\` | ${e.files} | ${kib(e.bytes)} |`);

process.stdout.write(
  [
    '## Package size',
    '',
    `\`npm pack\`: ${kib(packed.size)} packed, ${kib(packed.unpackedSize)} unpacked, ${packed.entryCount} files. \`src/\` ships so that the declaration maps lead "go to definition" to the commented source.`,
    '',
    '| path | files | unpacked |',
    '| --- | ---: | ---: |',
    ...rows,
    '',
  ].join('\n'),
);
