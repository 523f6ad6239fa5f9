// The command lines the synthesized pods run must be ones the runtime accepts: each is handed to
// the real `mlops-runtime` entry point with `--help`, which parses every flag strictly (an unknown
// flag or a malformed number is an error) and then prints the usage instead of starting the
// component. `$(VAR)` references are first expanded from the container's environment, as the
// kubelet does.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { App } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { Environment } from '../../src/constructs/environment.ts';
import { Runtime } from '../../src/constructs/runtime.ts';
import { Server } from '../../src/constructs/server.ts';
import { ServerConfig } from '../../src/constructs/server-config.ts';
import { synthesizeObjects } from '../../src/synth/synthesize.ts';
import type { Json } from './helpers.ts';

const bin = fileURLToPath(new URL('../../bin/mlops-runtime.js', import.meta.url));
const IMAGE = 'registry.example.com/mlops-runtime:1.0.0';

function runtimeContainers(): { workload: string; args: string[] }[] {
  const app = new App({ outdir: 'unused' });
  const env = new Environment(app, 'prod', { namespace: 'prod' });
  new Runtime(env, 'runtime', { image: IMAGE, kafka: { bootstrapServers: ['kafka:9092'] } });
  new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER });
  const manifests = synthesizeObjects(app).map((o) => o.manifest as Json);
  const configMaps = new Map<string, Record<string, string>>(
    manifests.filter((m) => m.kind === 'ConfigMap').map((m) => [m.metadata.name, m.data ?? {}]),
  );
  return manifests
    .filter((m) => m.kind === 'Deployment' || m.kind === 'StatefulSet')
    .flatMap((m) =>
      m.spec.template.spec.containers
        .filter((c: Json) => c.image === IMAGE)
        .map((c: Json) => ({ workload: `${m.kind}/${m.metadata.name}`, args: expand(c, configMaps) })),
    );
}

/** The arguments as the kubelet passes them: `$(VAR)` replaced from the container's environment. */
function expand(container: Json, configMaps: Map<string, Record<string, string>>): string[] {
  const vars: Record<string, string> = {};
  for (const from of container.envFrom ?? [])
    Object.assign(vars, configMaps.get(from.configMapRef?.name) ?? {});
  for (const e of container.env ?? []) vars[e.name] = e.value ?? `${e.name.toLowerCase()}-from-the-pod`;
  return (container.args as string[]).map((a) =>
    a.replace(/\$\(([A-Z0-9_]+)\)/g, (ref, name: string) => vars[name] ?? ref),
  );
}

describe('synthesized runtime command lines', () => {
  const containers = runtimeContainers();

  it('cover every component', () => {
    expect(containers.map((c) => c.args[0]).sort()).toEqual(['agent', 'dataflow', 'gateway', 'scheduler']);
  });

  it.each(containers)(
    '$workload: `mlops-runtime $args.0 …` accepts its flags',
    ({ args }) => {
      const run = spawnSync(process.execPath, [bin, ...args, '--help'], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`usage: mlops-runtime ${args[0]}`));
    },
    70_000,
  );
});
