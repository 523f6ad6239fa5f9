import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cachePath, provisioned, repoRoot } from './cache.ts';

const run = promisify(execFile);

/** The parts of an OCI image configuration the runtime image sets. */
export interface ImageConfig {
  User: string;
  Env: string[];
  Entrypoint: string[];
  WorkingDir: string;
}

export interface RuntimeImage {
  /** `layout:tag`, an OCI image layout on disk. */
  ref: string;
  config: ImageConfig;
  /** Sum of the (gzip) layer blobs: what a registry stores and a node pulls. */
  compressedBytes: number;
  /** The image's filesystem, unpacked from the layout. */
  rootfs: string;
}

function blob(layout: string, digest: string): string {
  return join(layout, 'blobs', ...digest.split(':'));
}

/**
 * Builds the runtime image with scripts/image/build.sh (the compiled lib/ and the provisioned
 * base layer) into a new folder and unpacks its filesystem there with umoci.
 */
export async function buildRuntimeImage(): Promise<RuntimeImage> {
  provisioned('image', cachePath('image'));
  const dir = mkdtempSync(join(tmpdir(), 'mlops-e2e-image-'));
  // The image's user must reach the unpacked filesystem to run from it.
  chmodSync(dir, 0o755);
  const layout = join(dir, 'oci');
  const { stdout } = await run('bash', [join(repoRoot, 'scripts/image/build.sh'), layout], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const ref = stdout.trim().split('\n').at(-1) ?? '';
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(blob(layout, index.manifests[0].digest), 'utf8'));
  const config = JSON.parse(readFileSync(blob(layout, manifest.config.digest), 'utf8')).config;
  const compressedBytes = (manifest.layers as { size: number }[]).reduce((n, l) => n + l.size, 0);
  const rootfs = join(dir, 'rootfs');
  const rootless = process.getuid?.() === 0 ? [] : ['--rootless'];
  await run('umoci', ['raw', 'unpack', ...rootless, '--image', ref, rootfs]);
  return { ref, config, compressedBytes, rootfs };
}

/** Bytes of the files under `dir` (du's apparent size). */
export async function treeBytes(dir: string): Promise<number> {
  const { stdout } = await run('du', ['-s', '--apparent-size', '--block-size=1', dir]);
  return Number(stdout.split('\t')[0]);
}

/**
 * The command line that runs the image's entry point with `args` the way a container runtime
 * would, with bubblewrap: the unpacked filesystem read-only as `/`, a fresh /proc, /dev and /tmp,
 * its own PID namespace, only the image's environment, its working directory, and its USER —
 * not root: as root this drops to that uid and gid first; otherwise the caller's user is mapped
 * onto them. The host's network is shared (the servers listen on 127.0.0.1); `binds` are host
 * folders made writable at the same path.
 */
export function imageCommand(
  image: RuntimeImage,
  args: string[],
  binds: string[] = [],
): { command: string; args: string[] } {
  const [uid, gid] = image.config.User.split(':');
  const sandbox = [
    '--unshare-user',
    '--unshare-pid',
    '--unshare-ipc',
    '--die-with-parent',
    '--ro-bind',
    image.rootfs,
    '/',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--tmpfs',
    '/tmp',
    ...binds.flatMap((b) => ['--bind', b, b]),
    '--clearenv',
    ...image.config.Env.flatMap((e) => {
      const i = e.indexOf('=');
      return ['--setenv', e.slice(0, i), e.slice(i + 1)];
    }),
    '--chdir',
    image.config.WorkingDir,
  ];
  const entry = [...image.config.Entrypoint, ...args];
  if (process.getuid?.() === 0) {
    return {
      command: 'setpriv',
      args: [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', 'bwrap', ...sandbox, '--', ...entry],
    };
  }
  return { command: 'bwrap', args: ['--uid', uid, '--gid', gid, ...sandbox, '--', ...entry] };
}

/** Hands `path` to the image's user, as a pod's fsGroup would (only possible, and needed, as root). */
export async function giveToImageUser(image: RuntimeImage, path: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  await run('chown', ['-R', image.config.User, path]);
}

/** The owner of a file as `uid:gid`. */
export function ownerOf(path: string): string {
  const s = statSync(path);
  return `${s.uid}:${s.gid}`;
}
