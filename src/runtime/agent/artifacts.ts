import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelDefinition } from '../protocol/control.ts';
import { internalModelName } from '../protocol/control.ts';
import { extractTar } from './tar.ts';

/** Where a model's files come from. Object stores can be added behind the same interface. */
export interface ArtifactFetcher {
  /** Whether this fetcher handles `uri`. */
  handles(uri: string): boolean;
  /** Puts the artifact's files into the empty folder `dest`. */
  fetch(uri: string, dest: string): Promise<void>;
}

export const fileFetcher: ArtifactFetcher = {
  handles: (uri) => uri.startsWith('file://') || uri.startsWith('/'),
  async fetch(uri, dest) {
    const path = uri.startsWith('file://') ? fileURLToPath(uri) : uri;
    if (!existsSync(path)) throw new Error(`artifact ${uri} not found`);
    if (statSync(path).isDirectory()) cpSync(path, dest, { recursive: true });
    else unpackOrCopy(readFileSync(path), basename(path), dest);
  },
};

export const httpFetcher: ArtifactFetcher = {
  handles: (uri) => uri.startsWith('http://') || uri.startsWith('https://'),
  async fetch(uri, dest) {
    let res: Response;
    try {
      res = await fetch(uri, { signal: AbortSignal.timeout(10 * 60_000) });
    } catch (err) {
      throw new Error(`downloading ${uri} failed: ${(err as Error).message}`);
    }
    if (!res.ok) throw new Error(`downloading ${uri} failed: HTTP ${res.status}`);
    const body = Buffer.from(await res.arrayBuffer());
    unpackOrCopy(body, basename(new URL(uri).pathname) || 'artifact', dest);
  },
};

/** Archives (`.tar`, `.tar.gz`, `.tgz`) are unpacked; any other single file is kept as is. */
function unpackOrCopy(body: Buffer, name: string, dest: string): void {
  if (/\.(tar|tar\.gz|tgz)$/.test(name)) {
    if (extractTar(body, dest) === 0) throw new Error(`archive ${name} holds no files`);
  } else writeFileSync(join(dest, name), body);
}

/**
 * Local cache of model artifacts. A version is downloaded once into `downloads/`, then its chosen
 * folder is copied to `<modelsDir>/<model>_<version>/` with `model-settings.json` renamed to the
 * internal name, where the inference server's repository API finds it. The copy stays on disk
 * while the model is registered, so a reload after eviction reads the disk only.
 */
export class ArtifactCache {
  constructor(
    readonly cacheDir: string,
    readonly modelsDir: string,
    private readonly fetchers: ArtifactFetcher[] = [fileFetcher, httpFetcher],
  ) {
    mkdirSync(join(cacheDir, 'downloads'), { recursive: true });
    mkdirSync(modelsDir, { recursive: true });
  }

  modelDir(def: Pick<ModelDefinition, 'name' | 'version'>): string {
    return join(this.modelsDir, internalModelName(def.name, def.version));
  }

  /** Makes the model folder ready for the server; returns it. Errors name the URI and the cause. */
  async prepare(def: ModelDefinition): Promise<string> {
    const fetcher = this.fetchers.find((f) => f.handles(def.storageUri));
    if (!fetcher) {
      throw new Error(`unsupported storage URI ${def.storageUri}: use file:// or http(s)://`);
    }
    const key = createHash('sha256').update(`${def.name}\n${def.storageUri}`).digest('hex').slice(0, 16);
    const download = join(this.cacheDir, 'downloads', key);
    if (!existsSync(download)) {
      const tmp = `${download}.partial`;
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      try {
        await fetcher.fetch(def.storageUri, tmp);
      } catch (err) {
        rmSync(tmp, { recursive: true, force: true });
        throw err;
      }
      renameSync(tmp, download);
    }
    const source = selectVersionFolder(download, def);
    const target = this.modelDir(def);
    rmSync(target, { recursive: true, force: true });
    cpSync(source, target, { recursive: true });
    writeSettings(target, def);
    return target;
  }

  remove(def: Pick<ModelDefinition, 'name' | 'version'>): void {
    rmSync(this.modelDir(def), { recursive: true, force: true });
  }
}

/**
 * OIP repository layout: a top-level `model-settings.json` wins; otherwise the folder named
 * `artifactVersion`, or else the highest numbered folder.
 */
export function selectVersionFolder(root: string, def: ModelDefinition): string {
  if (existsSync(join(root, 'model-settings.json'))) return root;
  const numbered = readdirSync(root)
    .filter((d) => /^\d+$/.test(d) && statSync(join(root, d)).isDirectory())
    .map(Number)
    .sort((a, b) => a - b);
  if (def.artifactVersion) {
    if (!numbered.includes(def.artifactVersion)) {
      throw new Error(
        `artifact ${def.storageUri} has no version folder ${def.artifactVersion} (found: ${numbered.join(', ') || 'none'})`,
      );
    }
    return join(root, String(def.artifactVersion));
  }
  if (numbered.length > 0) return join(root, String(numbered[numbered.length - 1]));
  return root;
}

/** Names the model after its internal name and merges the Model's parameters. */
function writeSettings(dir: string, def: ModelDefinition): void {
  const path = join(dir, 'model-settings.json');
  let settings: Record<string, unknown> = {};
  if (existsSync(path)) {
    try {
      settings = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new Error(
        `artifact ${def.storageUri}: model-settings.json is not valid JSON (${(err as Error).message})`,
      );
    }
  } else {
    throw new Error(`artifact ${def.storageUri} has no model-settings.json (MLServer needs one per model)`);
  }
  settings.name = internalModelName(def.name, def.version);
  const parameters = { ...((settings.parameters as Record<string, unknown>) ?? {}) };
  if (def.parameters.length > 0) {
    parameters.extra = {
      ...((parameters.extra as Record<string, unknown>) ?? {}),
      ...Object.fromEntries(def.parameters.map((p) => [p.name, p.value])),
    };
  }
  settings.parameters = parameters;
  writeFileSync(path, `${JSON.stringify(settings, null, 2)}\n`);
}
