import { existsSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { KubeObject, ModelSpec } from '../../spec/types.ts';

/** Schemes the local agent fetches itself. */
export const LOCAL_SCHEMES = ['file:', 'http:', 'https:'];

/** `SCHEME://BUCKET/PATH` of an object store, or undefined for local and malformed URIs. */
export function bucketPath(storageUri: string): { bucket: string; path: string } | undefined {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]+)\/?([^?#]*)$/i.exec(storageUri);
  if (!m || LOCAL_SCHEMES.includes(`${m[1].toLowerCase()}:`)) return undefined;
  return { bucket: m[2], path: m[3].replace(/\/+$/, '') };
}

/**
 * Where `modelsDir` holds a copy of an object-store artifact: `gs://BUCKET/PATH` (or s3://,
 * az://, …) is `modelsDir/BUCKET/PATH` when that folder exists; undefined otherwise.
 */
export function localCopy(storageUri: string, modelsDir: string | undefined): string | undefined {
  const where = bucketPath(storageUri);
  if (!modelsDir || !where) return undefined;
  const root = resolve(modelsDir);
  const path = join(root, where.bucket, where.path);
  // `..` in a URI must not reach outside the folder.
  if (!path.startsWith(root + sep)) return undefined;
  try {
    return statSync(path).isDirectory() ? path : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The objects, with each Model whose artifact has a local copy in `modelsDir` pointing at it
 * (`file://`); the app's own files keep their object-store URIs.
 */
export function withLocalModels(objects: KubeObject[], modelsDir: string | undefined): KubeObject[] {
  if (!modelsDir) return objects;
  return objects.map((o) => {
    const spec = o.spec as Partial<ModelSpec> | undefined;
    if (o.kind !== 'Model' || typeof spec?.storageUri !== 'string') return o;
    const copy = localCopy(spec.storageUri, modelsDir);
    return copy ? { ...o, spec: { ...spec, storageUri: pathToFileURL(copy).href } } : o;
  });
}

/**
 * The folder of local copies: `--models DIR` (which must exist), else `models/` in the current
 * folder when there is one.
 */
export function resolveModelsDir(given: string | undefined, cwd: string): string | undefined {
  if (given === undefined) {
    const byDefault = resolve(cwd, 'models');
    return existsSync(byDefault) && statSync(byDefault).isDirectory() ? byDefault : undefined;
  }
  const dir = resolve(cwd, given);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new Error(
      `--models ${given}: no such directory; give a folder laid out as BUCKET/PATH (in this project: npm run models)`,
    );
  }
  return dir;
}
