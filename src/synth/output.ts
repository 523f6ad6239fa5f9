import { mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isManagedFile } from './layout.ts';

/** An app's synthesized files: file name → YAML text, in file-name order. */
export type SynthFiles = ReadonlyMap<string, string>;

/** How an output folder differs from a fresh synthesis. */
export interface OutputDiff {
  /** Files synthesis produces that the folder lacks. */
  missing: string[];
  /** Managed files in the folder that synthesis no longer produces. */
  stale: string[];
  /** Files present in both with different contents. */
  changed: string[];
}

export function isUpToDate(diff: OutputDiff): boolean {
  return diff.missing.length + diff.stale.length + diff.changed.length === 0;
}

/** Compares a folder with synthesized files; only managed files count (see `isManagedFile`). */
export function diffOutput(dir: string, files: SynthFiles): OutputDiff {
  const onDisk = managedFiles(dir);
  const diff: OutputDiff = { missing: [], stale: [], changed: [] };
  for (const [name, text] of files) {
    if (!onDisk.has(name)) diff.missing.push(name);
    else if (readFileSync(join(dir, name), 'utf8') !== text) diff.changed.push(name);
  }
  diff.stale = [...onDisk].filter((name) => !files.has(name)).sort();
  return diff;
}

/**
 * Makes the folder hold exactly these files: writes new and changed ones (each through a
 * temporary file and a rename, so a reader never sees half a file), leaves identical ones
 * untouched and removes stale managed files. Files it does not manage are left alone.
 */
export function writeOutput(dir: string, files: SynthFiles): OutputDiff {
  const diff = diffOutput(dir, files);
  mkdirSync(dir, { recursive: true });
  for (const name of [...diff.missing, ...diff.changed]) {
    const tmp = join(dir, `.${name}.${process.pid}.tmp`);
    writeFileSync(tmp, files.get(name) as string);
    renameSync(tmp, join(dir, name));
  }
  for (const name of diff.stale) rmSync(join(dir, name));
  return diff;
}

/** Removes every managed file of a folder, and the folder itself if nothing else is left in it. */
export function clearOutput(dir: string): string[] {
  const removed = writeOutput(dir, new Map()).stale;
  if (readdirSync(dir).length === 0) rmdirSync(dir);
  return removed;
}

/**
 * Sub-folders of `root` that look like output folders of earlier syntheses: they hold managed
 * files and nothing else (a folder with anything else in it is someone's, and left alone).
 */
export function outputFolders(root: string): string[] {
  return entries(root)
    .filter((e) => e.isDirectory())
    .filter((e) => {
      const inside = entries(join(root, e.name));
      return inside.length > 0 && inside.every((f) => f.isFile() && isManagedFile(f.name));
    })
    .map((e) => e.name)
    .sort();
}

function managedFiles(dir: string): Set<string> {
  return new Set(
    entries(dir)
      .filter((e) => e.isFile() && isManagedFile(e.name))
      .map((e) => e.name),
  );
}

function entries(dir: string) {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
