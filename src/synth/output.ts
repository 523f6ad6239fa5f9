import {
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
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
 * Makes the folder hold exactly these files: new and changed ones written, stale managed files
 * removed, files it does not manage kept. The new folder is built beside the old one and swapped
 * in (see `replaceFolder`), so a reader, or a killed run, never leaves a mix of old and new.
 * Nothing is touched when the folder is already up to date.
 */
export function writeOutput(dir: string, files: SynthFiles): OutputDiff {
  recoverFolder(dir);
  const diff = diffOutput(dir, files);
  if (isUpToDate(diff) && !hasStrays(dir) && existsSync(dir)) return diff;
  replaceFolder(dir, (tmp) => fillFolder(tmp, dir, files));
  return diff;
}

/**
 * Writes the folders of several apps under `root`, and drops the folders in `remove`, in one
 * swap of `root`: after a crash `root` is either wholly old or wholly new. Everything else in
 * `root` is kept (hard-linked into the new one, not copied).
 */
export function writeOutputs(
  root: string,
  folders: ReadonlyMap<string, SynthFiles>,
  remove: readonly string[],
): Map<string, OutputDiff> {
  recoverFolder(root);
  const diffs = new Map([...folders].map(([name, files]) => [name, diffOutput(join(root, name), files)]));
  const names = [...folders.keys()];
  const fresh =
    remove.length === 0 &&
    [...diffs.values()].every(isUpToDate) &&
    names.every((n) => existsSync(join(root, n)) && !hasStrays(join(root, n)));
  if (fresh) return diffs;
  replaceFolder(root, (tmp) => {
    for (const e of entries(root)) {
      if (!folders.has(e.name) && !remove.includes(e.name)) linkTree(join(root, e.name), join(tmp, e.name));
    }
    for (const [name, files] of folders) fillFolder(join(tmp, name), join(root, name), files);
  });
  return diffs;
}

/** Managed files of a folder, e.g. of an app that no longer exists. */
export function managedFileCount(dir: string): number {
  return managedFiles(dir).size;
}

/** `new` in `tmp`: the old folder's unmanaged files, and the synthesized ones (unchanged ones linked). */
function fillFolder(tmp: string, old: string, files: SynthFiles): void {
  mkdirSync(tmp, { recursive: true });
  for (const e of entries(old)) {
    if ((e.isFile() && isManagedFile(e.name)) || STRAY_FILE.test(e.name)) continue;
    linkTree(join(old, e.name), join(tmp, e.name));
  }
  for (const [name, text] of files) {
    const before = join(old, name);
    if (readSafe(before) === text) linkTree(before, join(tmp, name));
    else writeFileSync(join(tmp, name), text);
  }
}

// `.<name>.tmp-<pid>` (being built) and `.<name>.old-<pid>` (being replaced) beside a folder;
// `.<file>.<pid>.tmp` inside one, from versions that replaced file by file.
const STRAY_FOLDER = /^\.(.+)\.(tmp|old)-(\d+)$/;
const STRAY_FILE = /^\..+\.\d+\.tmp$/;

const hasStrays = (dir: string) => entries(dir).some((e) => STRAY_FILE.test(e.name));

/** Clears what a killed `replaceFolder` left beside `target`; if it died between the renames, puts the old folder back. */
function recoverFolder(target: string): void {
  const full = resolve(target);
  const parent = dirname(full);
  for (const e of entries(parent)) {
    const m = STRAY_FOLDER.exec(e.name);
    if (!m || m[1] !== basename(full) || isRunning(Number(m[3]))) continue;
    if (m[2] === 'old' && !existsSync(full)) renameSync(join(parent, e.name), full);
    else rmSync(join(parent, e.name), { recursive: true, force: true });
  }
}

/** Replaces `target` with a folder `build` fills: built beside it, then swapped in by two renames. */
function replaceFolder(target: string, build: (tmp: string) => void): void {
  const full = resolve(target);
  const parent = dirname(full);
  const base = basename(full);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.${base}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    build(tmp);
    mkdirSync(tmp, { recursive: true });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  if (!existsSync(full)) {
    renameSync(tmp, full);
    return;
  }
  const old = join(parent, `.${base}.old-${process.pid}`);
  renameSync(full, old);
  renameSync(tmp, full);
  rmSync(old, { recursive: true, force: true });
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A hard-linked copy of a file or tree (symlinks copied as links; other special files left out). */
function linkTree(src: string, dst: string): void {
  const st = lstatSync(src);
  if (st.isDirectory()) {
    mkdirSync(dst, { recursive: true });
    for (const name of readdirSync(src)) linkTree(join(src, name), join(dst, name));
  } else if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
  else if (st.isFile()) {
    try {
      linkSync(src, dst);
    } catch {
      copyFileSync(src, dst);
    }
  }
}

function readSafe(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
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
