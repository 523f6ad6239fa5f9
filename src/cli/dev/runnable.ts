import { relative } from 'node:path';
import { bucketPath, LOCAL_SCHEMES } from './local-models.ts';
import type { DevModel, DevServer, DevTopology } from './topology.ts';

const NOT_STARTED = 'which mlops dev does not start (it runs MLServer only)';

/** What a Server runs, as a person would name it. */
function serverKind(s: DevServer): string {
  if (s.serverConfig === 'triton' || s.capabilities.includes('triton')) return 'Triton Inference Server';
  return `serverConfig ${s.serverConfig}`;
}

function serverMismatch(m: DevModel, servers: DevServer[]): string | undefined {
  if (m.server) {
    const pinned = servers.find((s) => s.name === m.server);
    if (!pinned) return `it is pinned to server ${m.server}, which the app does not declare`;
    if (!pinned.mlserver) return `it needs server ${pinned.name} (${serverKind(pinned)}), ${NOT_STARTED}`;
  }
  const candidates = servers.filter((s) => !m.server || s.name === m.server);
  const fit = candidates.filter((s) => m.requirements.every((r) => s.capabilities.includes(r)));
  if (fit.some((s) => s.mlserver)) return undefined;
  const needs = `its requirements (${m.requirements.join(', ')})`;
  if (fit.length === 0) return `no Server of the app offers ${needs}`;
  return `${needs} are met only by ${fit.map((s) => `server ${s.name} (${serverKind(s)})`).join(', ')}, ${NOT_STARTED}`;
}

function storageMismatch(m: DevModel, modelsDir: string | undefined, cwd: string): string | undefined {
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(m.storageUri)?.[0].toLowerCase();
  if (!scheme || LOCAL_SCHEMES.includes(scheme)) return undefined;
  const where = bucketPath(m.storageUri);
  const copy = where ? `${where.bucket}/${where.path}` : 'BUCKET/PATH';
  const folder = modelsDir ? `${relative(cwd, modelsDir) || '.'}/${copy}` : undefined;
  return (
    `its storageUri ${m.storageUri} has no local copy, and the agent fetches object stores only with rclone over the network: ` +
    (folder
      ? `put a copy in ${folder}`
      : `give a folder of local copies with --models DIR (it would hold DIR/${copy})`) +
    ', or point storageUri at file://, http:// or https://'
  );
}

/**
 * The models `mlops dev` cannot serve, each with the reason: it needs a server that is not
 * started (Triton, a custom configuration), or its artifact is in an object store with no local
 * copy (reachable, if at all, only over the network). Models whose storage was mapped to a local copy already carry a file:// URI here.
 */
export function unrunnableModels(
  topo: DevTopology,
  modelsDir: string | undefined,
  cwd: string,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of topo.models) {
    const why = serverMismatch(m, topo.servers) ?? storageMismatch(m, modelsDir, cwd);
    if (why) out.set(m.name, why);
  }
  return out;
}
