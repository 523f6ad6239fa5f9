import { join } from 'node:path';
import { type ArgvValues, componentArgv } from '../../../src/spec/flags.ts';
import { repoRoot } from './cache.ts';
import type { MlserverInstance } from './mlserver.ts';
import { freePort } from './ports.ts';
import { type ManagedProcess, startProcess, waitUntilReady } from './process.ts';

export interface AgentProcess {
  proc: ManagedProcess;
  httpPort: number;
  grpcPort: number;
  adminPort: number;
  mlserver: MlserverInstance;
}

/**
 * Starts `mlops-runtime agent` in front of one MLServer, on free 127.0.0.1 ports, with its
 * artifact cache and a new log file (added to `logs`) under `dir`, and waits until it is ready.
 * `flags` add the suite's own (identity, memory, timings); `env` is passed on (a
 * StatefulSet's POD_NAME, for one).
 */
export async function startAgentProcess(opts: {
  name: string;
  dir: string;
  logs: string[];
  scheduler: string;
  mlserver: MlserverInstance;
  flags: ArgvValues<'agent'>;
  env?: NodeJS.ProcessEnv;
}): Promise<AgentProcess> {
  const [httpPort, grpcPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const { mlserver } = opts;
  const logFile = join(opts.dir, `${opts.name}-${opts.logs.length}.log`);
  opts.logs.push(logFile);
  const proc = startProcess(
    opts.name,
    process.execPath,
    [
      'bin/mlops-runtime.js',
      ...componentArgv('agent', {
        scheduler: opts.scheduler,
        'inference-url': mlserver.httpUrl,
        'inference-grpc': mlserver.grpcAddress,
        'models-dir': mlserver.modelsDir,
        'cache-dir': join(opts.dir, `cache-${opts.name}`),
        capabilities: ['mlserver', 'sklearn'],
        host: '127.0.0.1',
        'http-port': httpPort,
        'grpc-port': grpcPort,
        'admin-port': adminPort,
        ...opts.flags,
      }),
    ],
    { logFile, cwd: repoRoot, env: opts.env },
  );
  await waitUntilReady(
    proc,
    opts.name,
    async () => (await fetch(`http://127.0.0.1:${adminPort}/ready`)).ok,
    30_000,
  );
  return { proc, httpPort, grpcPort, adminPort, mlserver };
}
