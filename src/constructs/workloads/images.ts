/** Images the runtime's workloads default to: pinned tags, never `latest`. */
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** The version of this package, which tags the runtime image built from its Dockerfile. */
export const RUNTIME_VERSION = pkg.version;
export const DEFAULT_RUNTIME_IMAGE = `ghcr.io/cdk8s-mlops/mlops-runtime:${RUNTIME_VERSION}`;
/** The MLServer release the end-to-end tests run against. */
export const MLSERVER_IMAGE = 'docker.io/seldonio/mlserver:1.7.1';
export const TRITON_IMAGE = 'nvcr.io/nvidia/tritonserver:24.08-py3';

/** Why an image reference is not pinned, or undefined. */
export function imagePinProblem(image: string): string | undefined {
  if (image.includes('@')) return undefined;
  const last = image.slice(image.lastIndexOf('/') + 1);
  const tag = last.includes(':') ? last.slice(last.indexOf(':') + 1) : undefined;
  if (tag === undefined) return 'has no tag, which means "latest"';
  if (tag === 'latest') return 'uses the mutable tag "latest"';
  return undefined;
}
