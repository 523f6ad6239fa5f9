import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachePath, pinnedVersion, provisioned } from './cache.ts';
import { freePort } from './ports.ts';
import { startProcess, waitUntilReady } from './process.ts';

export interface MlserverPorts {
  http: number;
  grpc: number;
  metrics: number;
}

export interface MlserverInstance {
  ports: MlserverPorts;
  httpUrl: string;
  /** host:port of the gRPC (OIP) endpoint. */
  grpcAddress: string;
  modelsDir: string;
  /** The server's process (inference runs in it: no parallel workers). */
  pid: number;
  stop(): Promise<void>;
  logFile: string;
}

const STARTUP_TIMEOUT_MS = 90_000;

/** The provisioned virtualenv (its folder name carries the Python version it was built with). */
export function mlserverVenv(): string {
  const version = pinnedVersion('MLSERVER_VERSION');
  const root = cachePath('mlserver');
  const dir = existsSync(root)
    ? readdirSync(root)
        .filter((d) => d.startsWith(`${version}-py`) && existsSync(join(root, d, '.stamp')))
        .map((d) => join(root, d))[0]
    : undefined;
  return join(provisioned('mlserver', dir ?? join(root, `${version}-py<python>`)), 'venv');
}

/**
 * Starts MLServer on free 127.0.0.1 ports (HTTP, gRPC, metrics) over `modelsDir` (a new
 * temporary folder by default). Nothing is loaded at startup: models are loaded and unloaded
 * through the model-repository API only.
 */
export async function startMlserver(
  opts: { modelsDir?: string; ports?: MlserverPorts } = {},
): Promise<MlserverInstance> {
  const venv = mlserverVenv();
  const dir = mkdtempSync(join(tmpdir(), 'mlops-e2e-mlserver-'));
  const modelsDir = opts.modelsDir ?? join(dir, 'models');
  mkdirSync(modelsDir, { recursive: true });
  // Given ports restart a server where its clients expect it.
  const {
    http: httpPort,
    grpc: grpcPort,
    metrics: metricsPort,
  } = opts.ports ?? {
    http: await freePort(),
    grpc: await freePort(),
    metrics: await freePort(),
  };
  const logFile = join(dir, 'mlserver.log');
  const proc = startProcess('mlserver', join(venv, 'bin', 'mlserver'), ['start', modelsDir], {
    logFile,
    cwd: dir,
    env: {
      MLSERVER_HOST: '127.0.0.1',
      MLSERVER_HTTP_PORT: String(httpPort),
      MLSERVER_GRPC_PORT: String(grpcPort),
      MLSERVER_METRICS_PORT: String(metricsPort),
      MLSERVER_MODEL_REPOSITORY_ROOT: modelsDir,
      MLSERVER_LOAD_MODELS_AT_STARTUP: 'false',
      // Inference in the server process: one process per server keeps the small machine free.
      MLSERVER_PARALLEL_WORKERS: '0',
      PYTHONUNBUFFERED: '1',
    },
  });
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  await waitUntilReady(
    proc,
    `MLServer on ${httpUrl}`,
    async () => (await fetch(`${httpUrl}/v2/health/ready`)).ok,
    STARTUP_TIMEOUT_MS,
  );
  return {
    ports: { http: httpPort, grpc: grpcPort, metrics: metricsPort },
    httpUrl,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    modelsDir,
    pid: proc.pid,
    logFile,
    async stop() {
      await proc.stop(10_000);
      if (!opts.modelsDir) rmSync(modelsDir, { recursive: true, force: true });
    },
  };
}
