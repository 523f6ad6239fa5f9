// Runs bench/*.bench.ts (all, or those whose file name contains one of the arguments) each in its
// own process (so peak memory is per benchmark), prints each report and writes it into
// docs/BENCHMARKS.md. Every bench prints one `## ...` section; the file marks each section with the
// bench that wrote it, so a partial run replaces only its own sections and keeps the others.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const OUT = 'docs/BENCHMARKS.md';
const HEADER =
  '# Benchmarks\n\nWritten by `npm run bench` on a 2-core machine; every figure is compared with a baseline measured in the same run.';
const marker = (file: string) => `<!-- ${file} -->`;
const MARKER_LINE = /^<!-- (\S+\.bench\.ts) -->\n/m;

/** Sections of the existing file, by the bench that wrote them. */
function previousSections(): Map<string, string> {
  const sections = new Map<string, string>();
  if (!existsSync(OUT)) return sections;
  const parts = readFileSync(OUT, 'utf8').split(MARKER_LINE);
  for (let i = 1; i + 1 < parts.length; i += 2) sections.set(parts[i], parts[i + 1].trim());
  return sections;
}

const only = process.argv.slice(2);
const all = readdirSync('bench')
  .filter((f) => f.endsWith('.bench.ts'))
  .sort();
const benches = all.filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
if (benches.length === 0) throw new Error(`no bench matches ${only.join(', ')}`);
const sections = previousSections();
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
  sections.set(file, run.status === 0 ? run.stdout.trim() : `## ${file}\n\nfailed (exit ${run.status})`);
}
const body = all.filter((f) => sections.has(f)).map((f) => `${marker(f)}\n${sections.get(f)}`);
writeFileSync(OUT, `${HEADER}\n\n${body.join('\n\n')}\n`);
process.exitCode = failed ? 1 : 0;
