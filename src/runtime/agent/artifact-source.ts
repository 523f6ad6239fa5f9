import { cpSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArtifactError } from './artifact-errors.ts';
import { extractTar } from './tar.ts';

/** What a source needs to fetch one model's artifact. */
export interface FetchRequest {
  /** The Model's name (messages name it). */
  model: string;
  /** The Model's namespace (its storage Secret lives there). */
  namespace: string;
  uri: string;
  /** The Model's `secretName`, or ''. */
  secretName: string;
}

/**
 * Where a model's files come from. A source puts the artifact's files into the empty folder
 * `dest`, or throws an `ArtifactError` saying whether the failure is worth a retry.
 */
export interface ArtifactSource {
  handles(uri: string): boolean;
  fetch(req: FetchRequest, dest: string): Promise<void>;
}

export const fileSource: ArtifactSource = {
  handles: (uri) => uri.startsWith('file://') || uri.startsWith('/'),
  async fetch(req, dest) {
    const path = req.uri.startsWith('file://') ? fileURLToPath(req.uri) : req.uri;
    if (!existsSync(path)) {
      throw new ArtifactError(
        'not-found',
        `Model ${req.model}: cannot fetch ${req.uri}: no such file or folder. Fix: check spec.storageUri`,
      );
    }
    if (statSync(path).isDirectory()) cpSync(path, dest, { recursive: true });
    else unpackOrCopy(req, readFileSync(path), basename(path), dest);
  },
};

export const httpSource: ArtifactSource = {
  handles: (uri) => uri.startsWith('http://') || uri.startsWith('https://'),
  async fetch(req, dest) {
    let res: Response;
    try {
      res = await fetch(req.uri, { signal: AbortSignal.timeout(10 * 60_000) });
    } catch (err) {
      throw new ArtifactError(
        'transient',
        `Model ${req.model}: downloading ${req.uri} failed: ${(err as Error).message}`,
      );
    }
    if (!res.ok) {
      const failure =
        res.status === 404
          ? 'not-found'
          : res.status === 401 || res.status === 403
            ? 'access-denied'
            : 'transient';
      const fix =
        failure === 'not-found'
          ? '. Fix: check spec.storageUri'
          : failure === 'access-denied'
            ? '. Fix: serve the artifact without authentication, or move it to an object store and set spec.secretName'
            : '';
      throw new ArtifactError(
        failure,
        `Model ${req.model}: downloading ${req.uri} failed: HTTP ${res.status}${fix}`,
      );
    }
    const body = Buffer.from(await res.arrayBuffer());
    unpackOrCopy(req, body, basename(new URL(req.uri).pathname) || 'artifact', dest);
  },
};

/** Archives (`.tar`, `.tar.gz`, `.tgz`) are unpacked; any other single file is kept as is. */
function unpackOrCopy(req: FetchRequest, body: Buffer, name: string, dest: string): void {
  if (/\.(tar|tar\.gz|tgz)$/.test(name)) {
    if (extractTar(body, dest) === 0) {
      throw new ArtifactError('invalid', `Model ${req.model}: archive ${req.uri} holds no files`);
    }
  } else writeFileSync(join(dest, name), body);
}
