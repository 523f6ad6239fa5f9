// `npm run docs`: regenerates the construct reference tables in docs/ from the JSDoc of the
// construct props. `--check` writes nothing and exits 1 when a page is out of date.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ConstructTypes, readConstructTypes } from './construct-reference/read.ts';
import { missingDefaults, missingDescriptions, renderPage } from './construct-reference/render.ts';

export interface ReferenceResult {
  readonly reference: ConstructTypes;
  /** Every page with marked tables: its path, its text now, and its text regenerated. */
  readonly pages: { path: string; current: string; generated: string }[];
  /** Markers naming no props interface, and props interfaces (or the other types) without a table. */
  readonly unmatched: string[];
}

export function constructReference(root: string): ReferenceResult {
  const reference = readConstructTypes(root);
  const pages: ReferenceResult['pages'] = [];
  const unmatched: string[] = [];
  const tabled = new Set<string>();
  let typesTabled = false;
  for (const name of readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md'))) {
    const path = `docs/${name}`;
    const current = readFileSync(join(root, path), 'utf8');
    const rendered = renderPage(current, reference);
    for (const unknown of rendered.unknown)
      unmatched.push(`${path}: <!-- props:${unknown} --> names no props interface of src/constructs`);
    for (const t of rendered.tabled) tabled.add(t);
    typesTabled ||= rendered.hasTypes;
    if (rendered.tabled.length > 0 || rendered.hasTypes)
      pages.push({ path, current, generated: rendered.text });
  }
  for (const doc of reference.interfaces.filter((d) => !d.baseOnly && !tabled.has(d.name)))
    unmatched.push(
      `${doc.file}: ${doc.name} has no table; add <!-- props:${doc.name} --><!-- /props --> to a page`,
    );
  if (!typesTabled) unmatched.push('docs: no page has the <!-- types --><!-- /types --> table');
  return { reference, pages, unmatched };
}

function main(): void {
  const root = fileURLToPath(new URL('../', import.meta.url));
  const check = process.argv.includes('--check');
  const { reference, pages, unmatched } = constructReference(root);
  const problems = [
    ...unmatched,
    ...missingDefaults(reference).map((p) => `${p}: optional, but has no @default`),
    ...missingDescriptions(reference).map((p) => `${p}: has no description`),
  ];
  for (const problem of problems) console.error(problem);
  const stale = pages.filter((p) => p.generated !== p.current);
  for (const page of stale) {
    if (check) console.error(`${page.path} differs from the JSDoc: run \`npm run docs\``);
    else writeFileSync(join(root, page.path), page.generated);
  }
  if (!check) console.log(`construct reference: ${pages.length} pages, ${stale.length} rewritten`);
  if (problems.length > 0 || (check && stale.length > 0)) process.exitCode = 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
