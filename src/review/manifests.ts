// Loads Kubernetes manifests (multi-document YAML or JSON) from files, directories or a git ref.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, type Stats, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../spec/types.ts';
import { type Identity, identityKey, identityOf } from './identity.ts';

/** One object and where it came from. */
export interface Manifest {
  object: KubeObject;
  /** File the object was read from (relative to the loaded root, or a path inside the git ref). */
  file: string;
  /** 0-based position of the document inside its file. */
  doc: number;
  id: Identity;
}

export class ManifestError extends Error {
  override name = 'ManifestError';
}

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

/**
 * Files larger than this are not parsed: parsing YAML takes some 30 times the file's size in
 * memory, and no set of objects anyone applies comes near it (the API server stores no object
 * over ~1.5 MiB, and ConfigMap or Secret data over 1 MiB).
 */
export const MAX_MANIFEST_FILE_BYTES = 8 * 1024 * 1024;

/** What loading does with files it does not parse. */
export interface LoadOptions {
  /** A file that was skipped (not a regular file); the message names it. */
  warn?: (message: string) => void;
  /** A file over MAX_MANIFEST_FILE_BYTES; without this it is an error. */
  oversized?: (file: string, bytes: number) => void;
}

/** Parses every document of one file's text into manifests; `List` kinds are flattened. */
export function parseManifests(text: string, file: string, set = ''): Manifest[] {
  const out: Manifest[] = [];
  // Line numbers are computed only on error: `prettyErrors` slows every parse down.
  const docs = parseAllDocuments(text, { prettyErrors: false });
  if (!Array.isArray(docs)) return out; // an empty stream
  docs.forEach((doc, i) => {
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      const line = text.slice(0, e.pos[0]).split('\n').length;
      throw new ManifestError(
        `${file}:${line}: document ${i + 1} is not valid YAML: ${e.message.split('\n')[0]}`,
      );
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (err) {
      // An alias bomb (or another structure toJS refuses) must still name its file.
      throw new ManifestError(`${file}: document ${i + 1}: ${(err as Error).message}`, { cause: err });
    }
    if (value === null || value === undefined) return;
    for (const object of flatten(value, file, i))
      out.push({ object, file, doc: i, id: identityOf(object, set) });
  });
  return out;
}

function flatten(value: unknown, file: string, doc: number): KubeObject[] {
  const where = `${file}: document ${doc + 1}`;
  if (typeof value !== 'object' || Array.isArray(value) || value === null) {
    throw new ManifestError(
      `${where} is not a Kubernetes object (expected a mapping with apiVersion and kind)`,
    );
  }
  const o = value as Record<string, unknown>;
  if (typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items)) {
    return o.items.flatMap((item) => flatten(item, file, doc));
  }
  if (typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') {
    throw new ManifestError(
      `${where} has no apiVersion/kind; add both (e.g. apiVersion: v1, kind: ConfigMap)`,
    );
  }
  const meta = o.metadata as Record<string, unknown> | undefined;
  if (!meta || typeof meta.name !== 'string' || meta.name === '') {
    throw new ManifestError(`${where} (${o.kind}) has no metadata.name; every object needs a name`);
  }
  return [o as unknown as KubeObject];
}

/**
 * Lists manifest files under a file or directory, sorted for deterministic output. Anything
 * but a regular file (a FIFO, a socket, a device) is skipped with a warning: reading a FIFO
 * would wait forever for a writer.
 */
export function manifestFiles(path: string, options: LoadOptions = {}): string[] {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    throw new ManifestError(`${path}: no such file or directory`);
  }
  const regular = (file: string, s: Stats) => {
    if (s.isFile()) return true;
    options.warn?.(`${file}: skipped, not a regular file`);
    return false;
  };
  if (!st.isDirectory()) return regular(path, st) ? [path] : [];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => cmp(a.name, b.name))) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (!MANIFEST_FILE.test(entry.name)) continue;
      else if (entry.isFile()) out.push(full);
      else {
        // A symlink counts by what it points to.
        const target = statSafe(full);
        if (target && regular(full, target)) out.push(full);
        else if (!target) options.warn?.(`${full}: skipped, a broken link`);
      }
    }
  };
  walk(path);
  return out;
}

/** A file's text, or undefined (reported through `options`) when it is too large to parse. */
function readManifestFile(file: string, name: string, options: LoadOptions): string | undefined {
  const bytes = statSync(file).size;
  if (bytes <= MAX_MANIFEST_FILE_BYTES) return readFileSync(file, 'utf8');
  if (options.oversized) options.oversized(name, bytes);
  else throw new ManifestError(oversizedMessage(name, bytes));
  return undefined;
}

/** Why a file of this size is not read (after its name: `dist/x.yaml is ...`). */
export function oversizedMessage(file: string, bytes: number): string {
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${file} is ${mib(bytes)}, not read: over the ${mib(MAX_MANIFEST_FILE_BYTES)} a manifest file may hold (the API server stores no object over ~1.5 MiB, and no ConfigMap or Secret data over 1 MiB); keep large data out of manifests (in a volume or an object store)`;
}

/**
 * The set of each file (relative to its root): a directory whose manifests all sit in
 * subfolders is the `dist/<app>/` layout of `mlops synth`, one independent set per app folder.
 */
export function setsOf(names: string[]): (name: string) => string {
  const appLayout = names.length > 0 && names.every((n) => n.includes('/'));
  return (name) => (appLayout ? name.slice(0, name.indexOf('/')) : '');
}

/** Loads every manifest under the given files/directories. File names are relative to each root. */
export function loadManifests(paths: string[], options: LoadOptions = {}): Manifest[] {
  const out: Manifest[] = [];
  for (const root of paths) {
    const isDir = statSafe(root)?.isDirectory() ?? false;
    const files = manifestFiles(root, options);
    const names = files.map((f) => (isDir ? relative(root, f).split(sep).join('/') : f));
    const setOf = isDir ? setsOf(names) : () => '';
    files.forEach((file, i) => {
      const text = readManifestFile(file, names[i], options);
      if (text !== undefined) out.push(...parseManifests(text, names[i], setOf(names[i])));
    });
  }
  return out;
}

/**
 * Loads the manifests committed under `dir` at a git ref (`git ls-tree` + one `git cat-file --batch`).
 * `dir` is relative to `cwd`, as on the command line.
 */
export function loadManifestsAtRef(
  ref: string,
  dir: string,
  cwd = process.cwd(),
  options: LoadOptions = {},
): Manifest[] {
  const git = (args: string[], input?: string) => {
    try {
      return execFileSync('git', args, { cwd, input, maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
      throw new ManifestError(`git ${args.join(' ')} failed: ${stderr || (err as Error).message}`);
    }
  };
  git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  const prefix = git(['rev-parse', '--show-prefix']).toString().trim();
  const dirPrefix = join(prefix, dir).replace(/\/?$/, '/');
  const rel = (file: string) => (file.startsWith(dirPrefix) ? file.slice(dirPrefix.length) : file);
  // `<mode> blob <id> <size>\t<path>`: regular files only (a symlink's blob is its target), sizes before reading.
  const listed: string[] = [];
  for (const line of git(['ls-tree', '-r', '-z', '-l', '--full-name', ref, '--', dir])
    .toString()
    .split('\0')) {
    const m = /^(\d+) \w+ [0-9a-f]+ +(\d+|-)\t(.*)$/s.exec(line);
    if (!m || !MANIFEST_FILE.test(m[3])) continue;
    if (m[1] !== '100644' && m[1] !== '100755')
      options.warn?.(`${ref}:${rel(m[3])}: skipped, not a regular file`);
    else if (Number(m[2]) <= MAX_MANIFEST_FILE_BYTES) listed.push(m[3]);
    else if (options.oversized) options.oversized(`${ref}:${rel(m[3])}`, Number(m[2]));
    else throw new ManifestError(oversizedMessage(`${ref}:${rel(m[3])}`, Number(m[2])));
  }
  listed.sort(cmp);
  if (listed.length === 0) return [];
  const batch = git(['cat-file', '--batch'], listed.map((f) => `${ref}:${f}\n`).join(''));
  const out: Manifest[] = [];
  let pos = 0;
  const setOf = setsOf(listed.map(rel));
  for (const file of listed) {
    const nl = batch.indexOf(10, pos);
    const header = batch.subarray(pos, nl).toString();
    const size = Number(header.split(' ')[2]);
    const text = batch.subarray(nl + 1, nl + 1 + size).toString('utf8');
    pos = nl + 1 + size + 1;
    const name = rel(file);
    out.push(...parseManifests(text, `${ref}:${name}`, setOf(name)));
  }
  return out;
}

/** Indexes manifests by identity; two objects with one identity in one set is an error. */
export function indexManifests(manifests: Manifest[], label: string): Map<string, Manifest> {
  const map = new Map<string, Manifest>();
  for (const m of manifests) {
    const key = identityKey(m.id);
    const prev = map.get(key);
    if (prev) {
      throw new ManifestError(
        `${label}: ${m.object.kind} ${m.object.metadata.name} is defined twice (${prev.file} and ${m.file}); remove one`,
      );
    }
    map.set(key, m);
  }
  return map;
}

function statSafe(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
