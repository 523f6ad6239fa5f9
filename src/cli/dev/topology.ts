import { ServerConfig } from '../../constructs/server-config.ts';
import { isMlopsApiVersion } from '../../spec/objects.ts';
import type { KubeObject, ModelSpec, PipelineSpec, ServerSpec } from '../../spec/types.ts';

/** One Server as `mlops dev` runs it: an agent (and an inference server) per replica. */
export interface DevServer {
  name: string;
  serverConfig: string;
  replicas: number;
  /** Memory each replica offers its models, as a Kubernetes quantity. */
  memory: string;
  overCommit: number;
  capabilities: string[];
  /** Whether MLServer can serve it (mlops dev starts no other inference server). */
  mlserver: boolean;
}

export interface DevModel {
  name: string;
  storageUri: string;
  server?: string;
  /** Capabilities a server must offer to take it. */
  requirements: string[];
}

/** What a folder of manifests asks `mlops dev` to run, for one namespace. */
export interface DevTopology {
  namespace: string;
  servers: DevServer[];
  models: DevModel[];
  pipelines: { name: string; steps: string[] }[];
  experiments: string[];
  /** Objects of the chosen namespace, as read (the scheduler and dataflow get exactly these). */
  objects: KubeObject[];
  warnings: string[];
}

const AGENT = 'agent';
const SIDECARS = new Set([AGENT, 'rclone']);
const BUILT_IN: Record<string, { capabilities: readonly string[] | undefined; memoryBytes?: number }> = {
  mlserver: {
    capabilities: ServerConfig.MLSERVER.capabilities,
    memoryBytes: ServerConfig.MLSERVER.defaultMemoryBytes,
  },
  triton: {
    capabilities: ServerConfig.TRITON.capabilities,
    memoryBytes: ServerConfig.TRITON.defaultMemoryBytes,
  },
};

/** Picks the namespace (`--namespace`, or the only one) and reads its servers, models and pipelines. */
export function devTopology(all: KubeObject[], namespace: string | undefined, where: string): DevTopology {
  const mlops = all.filter((o) => isMlopsApiVersion(o.apiVersion));
  const namespaces = [...new Set(mlops.map((o) => o.metadata.namespace ?? 'default'))].sort();
  if (namespace === undefined) {
    if (namespaces.length > 1) {
      throw new Error(
        `${where} declares several namespaces (${namespaces.join(', ')}); pick one with --namespace NS`,
      );
    }
    namespace = namespaces[0] ?? 'default';
  } else if (mlops.length > 0 && !namespaces.includes(namespace)) {
    throw new Error(
      `${where} has nothing in namespace ${namespace}; its namespaces: ${namespaces.join(', ')}`,
    );
  }
  const objects = mlops.filter((o) => (o.metadata.namespace ?? 'default') === namespace);
  const of = (kind: string) =>
    objects.filter((o) => o.kind === kind).sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  const configs = new Map(of('ServerConfig').map((c) => [c.metadata.name, c]));
  const warnings: string[] = [];
  const servers = of('Server').map((o) => devServer(o, configs));
  for (const s of servers) {
    if (!s.mlserver) {
      warnings.push(
        `server ${s.name} (serverConfig ${s.serverConfig}) is not started: mlops dev runs MLServer only, so models placed on it stay unscheduled`,
      );
    }
  }
  const models = of('Model').map((o) => {
    const spec = (o.spec ?? {}) as Partial<ModelSpec>;
    return {
      name: o.metadata.name,
      storageUri: spec.storageUri ?? '',
      server: spec.server,
      requirements: spec.requirements ?? [],
    };
  });
  if (servers.length === 0 && models.length > 0) {
    warnings.push(
      `${where} declares no Server: its models cannot be placed; add one, e.g. new Server(env, 'mlserver', …)`,
    );
  }
  const pipelines = of('Pipeline').map((o) => ({
    name: o.metadata.name,
    steps: ((o.spec ?? {}) as Partial<PipelineSpec>).steps?.map((s) => s.name) ?? [],
  }));
  return {
    namespace,
    servers,
    models,
    pipelines,
    experiments: of('Experiment').map((o) => o.metadata.name),
    objects,
    warnings,
  };
}

interface Container {
  name?: string;
  env?: { name?: string; value?: string }[];
  resources?: { requests?: { memory?: string | number } };
}

function containers(podSpec: unknown): Container[] {
  const list = (podSpec as { containers?: unknown } | undefined)?.containers;
  return Array.isArray(list) ? (list as Container[]) : [];
}

function devServer(o: KubeObject, configs: Map<string, KubeObject>): DevServer {
  const spec = (o.spec ?? {}) as Partial<ServerSpec>;
  const configName = spec.serverConfig ?? '';
  const config = configs.get(configName);
  // The Server's pod spec overrides its ServerConfig's, container by container, as in Seldon.
  const pods = [
    containers(spec.podSpec),
    containers((config?.spec as { podSpec?: unknown } | undefined)?.podSpec),
  ];
  const memory = pods
    .flat()
    .find((c) => !SIDECARS.has(c.name ?? '') && c.resources?.requests?.memory !== undefined)?.resources
    ?.requests?.memory;
  const agentEnv = (name: string) =>
    pods
      .flat()
      .filter((c) => c.name === AGENT)
      .flatMap((c) => c.env ?? [])
      .find((e) => e.name === name)?.value;
  const builtIn = BUILT_IN[configName];
  const capabilities = [
    ...(spec.capabilities?.length
      ? spec.capabilities
      : (agentEnv('SELDON_SERVER_CAPABILITIES')?.split(',') ?? builtIn?.capabilities ?? [])),
    ...(spec.extraCapabilities ?? []),
  ]
    .map((c) => c.trim())
    .filter(Boolean);
  return {
    name: o.metadata.name,
    serverConfig: configName,
    replicas: spec.replicas ?? spec.minReplicas ?? 1,
    memory: String(memory ?? builtIn?.memoryBytes ?? '1G'),
    overCommit: Number(agentEnv('SELDON_OVERCOMMIT_PERCENTAGE') ?? 10),
    capabilities: [...new Set(capabilities)],
    mlserver: configName === 'mlserver' || capabilities.includes('mlserver'),
  };
}
