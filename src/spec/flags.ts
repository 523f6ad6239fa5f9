// The command lines of `mlops-runtime <component>`: one table of flags per component, and the pure
// functions every caller shares: usage text, parsing into typed values, and rendering values back
// into an argv (the one place component command lines are built).

import { parseArgs } from 'node:util';
import { SCHEDULER_TOKEN_AUDIENCE } from './control-auth.ts';
import { SASL_MECHANISMS, KAFKA_SECURITY as SEC } from './kafka-security.ts';
import { PORTS } from './ports.ts';
import { DEFAULT_NAMING } from './topics.ts';

export type FlagType = 'string' | 'int' | 'bool' | 'list' | 'repeated';

/**
 * One flag. `list` is one comma-separated value (`--roles a,b`); `repeated` is given once per item
 * (`--pipeline-gateway x --pipeline-gateway y`). `int` is a whole number (ports, counts, milliseconds).
 */
export interface Flag {
  readonly type: FlagType;
  readonly help: string;
  /** Placeholder in the usage text, e.g. `HOST:PORT`. */
  readonly value?: string;
  readonly default?: string | number | boolean | readonly string[];
  /** Env var read when the flag is not given (before `default`). */
  readonly env?: string;
  /** The env var holds seconds, the flag milliseconds. */
  readonly envInSeconds?: boolean;
  /** Describes a default the component works out at run time (the usage shows this instead). */
  readonly defaultHelp?: string;
}

export type FlagTable = Readonly<Record<string, Flag>>;

const LOG_LEVEL = {
  type: 'string',
  value: 'LEVEL',
  default: 'info',
  env: 'LOG_LEVEL',
  help: 'pino level',
} as const satisfies Flag;
const HELP = { type: 'bool', default: false, help: 'print this text' } as const satisfies Flag;
/** In a pod every interface; `mlops dev` passes 127.0.0.1 so nothing is reachable from outside. */
const LISTEN = {
  type: 'string',
  value: 'ADDR',
  default: '0.0.0.0',
  help: 'address every port of this component listens on',
} as const satisfies Flag;

/**
 * Tracing, on every component: off without an endpoint. The standard OpenTelemetry variables
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_TRACES_SAMPLER_ARG`) are read when the flags are not given.
 */
const TRACING = {
  'otlp-endpoint': {
    type: 'string',
    value: 'URL',
    env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    help: 'send OpenTelemetry traces over OTLP/HTTP to URL, e.g. http://collector:4318 (none: tracing off)',
  },
  'trace-ratio': {
    type: 'string',
    value: 'RATIO',
    default: '1',
    env: 'OTEL_TRACES_SAMPLER_ARG',
    help: "share of new requests traced, 0 to 1 (a request with a traceparent follows its caller's choice)",
  },
} as const satisfies FlagTable;

const SCHEDULER = {
  listen: LISTEN,
  manifests: {
    type: 'string',
    value: 'DIR',
    env: 'MLOPS_MANIFESTS',
    help: 'local mode: desired state from the YAML files in DIR (re-read on change)',
  },
  kubernetes: {
    type: 'bool',
    default: false,
    help: 'cluster mode: watch the custom resources, write their status',
  },
  namespace: {
    type: 'string',
    value: 'NS',
    env: 'POD_NAMESPACE',
    help: 'namespace to watch in cluster mode; one scheduler per namespace, as model names are\nunique only within one',
  },
  port: {
    type: 'int',
    value: 'N',
    default: PORTS.scheduler,
    env: 'MLOPS_SCHEDULER_PORT',
    help: 'gRPC port for agents and gateways',
  },
  'token-audience': {
    type: 'string',
    value: 'AUD',
    default: SCHEDULER_TOKEN_AUDIENCE,
    help: 'cluster mode: agents and gateways must present a service-account token for this\naudience, checked with the TokenReview API',
  },
  'health-port': {
    type: 'int',
    value: 'N',
    default: PORTS.schedulerHealth,
    help: '/live, /ready, /status, /metrics',
  },
  'wait-for-servers-ms': {
    type: 'int',
    value: 'N',
    default: 10_000,
    help: 'after a restart, wait this long for expected agents',
  },
  'leader-lease': {
    type: 'string',
    value: 'NAME',
    help: 'cluster mode with several replicas: lead through the Lease NAME; a standby serves no\nagents or gateways (its gRPC port stays closed) and takes over when the lease runs out',
  },
  identity: {
    type: 'string',
    value: 'ID',
    env: 'POD_NAME',
    defaultHelp: 'host name',
    help: "this replica's name in the Lease",
  },
  'lease-seconds': {
    type: 'int',
    value: 'N',
    default: 5,
    help: 'a standby takes over when the Lease was not renewed for this long',
  },
  'renew-deadline-ms': {
    type: 'int',
    value: 'N',
    default: 3500,
    help: 'a leader that could not renew for this long exits (shorter than the lease)',
  },
  'retry-period-ms': {
    type: 'int',
    value: 'N',
    default: 500,
    help: 'between two attempts to acquire or renew the Lease',
  },
  'batch-ms': {
    type: 'int',
    value: 'N',
    default: 10,
    help: 'batch window for route and operation updates',
  },
  'no-model-autoscaling': {
    type: 'bool',
    default: false,
    help: "ignore agents' scale-up/scale-down triggers (on by default)",
  },
  'no-server-autoscaling': {
    type: 'bool',
    default: false,
    help: "do not scale Servers to their models' needs (on by default)\n(either way, replicas are kept within minReplicas/maxReplicas)",
  },
  'scaling-cooldown-ms': {
    type: 'int',
    value: 'N',
    default: 60_000,
    help: 'minimum time between two scaling changes of one resource',
  },
  'statefulset-check-ms': {
    type: 'int',
    value: 'N',
    default: 30_000,
    help: "how often autoscaled Servers' StatefulSets are compared with their Servers and set back\nwhen they differ (0: never)",
  },
  ...TRACING,
  'log-level': LOG_LEVEL,
  help: HELP,
} as const satisfies FlagTable;

const AGENT = {
  listen: LISTEN,
  server: { type: 'string', value: 'NAME', env: 'SELDON_SERVER_NAME', help: 'Server this pod belongs to' },
  replica: {
    type: 'int',
    value: 'N',
    defaultHelp: 'from POD_NAME "<server>-<N>"',
    help: 'replica index',
  },
  scheduler: {
    type: 'string',
    value: 'HOST:PORT',
    env: 'MLOPS_SCHEDULER_ADDRESS',
    help: 'scheduler gRPC address',
  },
  'scheduler-token-file': {
    type: 'string',
    value: 'FILE',
    env: 'MLOPS_SCHEDULER_TOKEN_FILE',
    help: 'service-account token (audience mlops-scheduler) presented to the scheduler, re-read\nas the kubelet rotates it; without it, $MLOPS_CONTROL_SECRET if set',
  },
  'inference-url': {
    type: 'string',
    value: 'URL',
    default: `http://127.0.0.1:${PORTS.serverHttp}`,
    env: 'MLOPS_INFERENCE_URL',
    help: 'inference server REST URL',
  },
  'inference-grpc': {
    type: 'string',
    value: 'HOST:PORT',
    default: `127.0.0.1:${PORTS.serverGrpc}`,
    env: 'MLOPS_INFERENCE_GRPC',
    help: 'inference server gRPC address ("" = no gRPC proxy)',
  },
  'models-dir': {
    type: 'string',
    value: 'DIR',
    default: '/mnt/agent/models',
    env: 'MLOPS_MODELS_DIR',
    help: "the inference server's model repository",
  },
  'cache-dir': {
    type: 'string',
    value: 'DIR',
    default: '/mnt/agent/cache',
    env: 'MLOPS_CACHE_DIR',
    help: 'artifact download cache',
  },
  memory: { type: 'string', value: 'QTY', env: 'MEMORY_REQUEST', help: 'inference server memory, e.g. 2Gi' },
  'over-commit': {
    type: 'int',
    value: 'PCT',
    default: 10,
    env: 'SELDON_OVERCOMMIT_PERCENTAGE',
    help: 'registered models may exceed memory by PCT %',
  },
  capabilities: {
    type: 'list',
    value: 'a,b',
    default: [],
    env: 'SELDON_SERVER_CAPABILITIES',
    help: 'what the server can run',
  },
  host: {
    type: 'string',
    value: 'HOST',
    env: 'POD_NAME',
    defaultHelp: 'the host name',
    help: 'host gateways use for this pod',
  },
  'http-port': { type: 'int', value: 'N', default: PORTS.agentHttp, help: 'REST inference proxy port' },
  'grpc-port': { type: 'int', value: 'N', default: PORTS.agentGrpc, help: 'gRPC inference proxy port' },
  'admin-port': {
    type: 'int',
    value: 'N',
    default: PORTS.agentAdmin,
    help: '/live /ready /terminate /metrics',
  },
  gateway: {
    type: 'string',
    value: 'HOST:PORT',
    default: '',
    env: 'MLOPS_GATEWAY_ADDRESS',
    help: 'gateway REST address explainers and LLM models call their targets through',
  },
  'storage-secrets': {
    type: 'list',
    value: 'a,b',
    default: [],
    env: 'MLOPS_STORAGE_SECRETS',
    help: 'Secrets with default rclone remotes (Seldon format), in the pod namespace',
  },
  rclone: {
    type: 'string',
    value: 'PATH',
    default: 'rclone',
    env: 'MLOPS_RCLONE',
    help: 'rclone binary, for s3:// gs:// az:// artifacts',
  },
  'download-concurrency': {
    type: 'int',
    value: 'N',
    default: 4,
    help: 'artifact downloads at once',
  },
  'min-residency-ms': {
    type: 'int',
    value: 'N',
    default: 1000,
    help: 'anti-thrash: keep a loaded model at least this long',
  },
  'unload-grace-ms': {
    type: 'int',
    value: 'N',
    default: 2000,
    help: 'wait before unloading so in-flight requests finish',
  },
  'lag-threshold': {
    type: 'int',
    value: 'N',
    default: 30,
    env: 'SELDON_MODEL_INFERENCE_LAG_THRESHOLD',
    help: 'requests in flight that ask for a scale-up',
  },
  'inactive-seconds': {
    type: 'int',
    value: 'N',
    default: 600,
    env: 'SELDON_MODEL_INACTIVE_SECONDS_THRESHOLD',
    help: 'idle time that asks for a scale-down',
  },
  'scaling-period-ms': {
    type: 'int',
    value: 'N',
    default: 20_000,
    env: 'SELDON_SCALING_STATS_PERIOD_SECONDS',
    envInSeconds: true,
    help: 'how often triggers are checked (0 = off)',
  },
  ...TRACING,
  'log-level': LOG_LEVEL,
  help: HELP,
} as const satisfies FlagTable;

const GATEWAY = {
  listen: LISTEN,
  'http-port': {
    type: 'int',
    value: 'N',
    default: PORTS.gatewayHttp,
    env: 'MLOPS_GATEWAY_HTTP_PORT',
    help: 'OIP REST port',
  },
  'grpc-port': {
    type: 'int',
    value: 'N',
    default: PORTS.gatewayGrpc,
    env: 'MLOPS_GATEWAY_GRPC_PORT',
    help: 'OIP gRPC port',
  },
  scheduler: {
    type: 'string',
    value: 'HOST:PORT',
    env: 'MLOPS_SCHEDULER_ADDRESS',
    help: "subscribe to the scheduler's route table",
  },
  'scheduler-token-file': {
    type: 'string',
    value: 'FILE',
    env: 'MLOPS_SCHEDULER_TOKEN_FILE',
    help: 'service-account token (audience mlops-scheduler) presented to the scheduler, re-read\nas the kubelet rotates it; without it, $MLOPS_CONTROL_SECRET if set',
  },
  routes: { type: 'string', value: 'FILE', help: 'static route table (YAML or JSON) instead of a scheduler' },
  'pipeline-gateway': {
    type: 'repeated',
    value: 'H:HTTP:GRPC',
    default: [],
    help: 'a pipeline gateway replica',
  },
  'max-body-bytes': { type: 'int', value: 'N', default: 64 * 1024 * 1024, help: 'largest accepted request' },
  ...TRACING,
  'max-inflight-bytes': {
    type: 'int',
    value: 'N',
    default: 25 * 1024 * 1024,
    help: 'request-body bytes held at once over all calls; beyond, 503 with Retry-After\n(the Runtime sets 1/20 of the memory limit)',
  },
  'log-level': LOG_LEVEL,
  help: HELP,
} as const satisfies FlagTable;

/** TLS and SASL of the Kafka clients; the password comes from a file or MLOPS_KAFKA_PASSWORD only. */
const KAFKA_SECURITY_FLAGS = {
  'kafka-tls': {
    type: 'bool',
    default: false,
    help: `connect with TLS (implied by --kafka-ca/-cert/-key; env ${SEC.tls.env})`,
  },
  'kafka-ca': {
    type: 'string',
    value: 'FILE',
    env: SEC.ca.env,
    help: 'PEM CA certificates the brokers must chain to',
  },
  'kafka-cert': {
    type: 'string',
    value: 'FILE',
    env: SEC.cert.env,
    help: 'PEM client certificate (mutual TLS)',
  },
  'kafka-key': { type: 'string', value: 'FILE', env: SEC.key.env, help: 'PEM key of the client certificate' },
  'kafka-sasl-mechanism': {
    type: 'string',
    value: 'M',
    env: SEC.mechanism.env,
    help: `SASL mechanism: ${SASL_MECHANISMS.join(', ')}`,
  },
  'kafka-user': { type: 'string', value: 'NAME', env: SEC.user.env, help: 'SASL user' },
  'kafka-password-file': {
    type: 'string',
    value: 'FILE',
    env: SEC.passwordFile.env,
    help: `file holding the SASL password (or set ${SEC.password.env})`,
  },
} as const satisfies FlagTable;

/** The dataflow roles, all run by default. */
export const DATAFLOW_ROLES = ['engine', 'model-gateway', 'pipeline-gateway'] as const;

const DATAFLOW = {
  bus: {
    type: 'string',
    value: 'kafka|memory',
    default: 'kafka',
    help: 'Kafka, or an in-process bus for one machine: every role then runs in this process and\nnothing is persisted',
  },
  brokers: { type: 'list', value: 'H:P[,H:P]', env: 'MLOPS_KAFKA_BROKERS', help: 'Kafka bootstrap servers' },
  ...KAFKA_SECURITY_FLAGS,
  manifests: {
    type: 'string',
    value: 'DIR',
    help: 'local mode: run the Pipelines in the YAML files of DIR (re-read on change)',
  },
  kubernetes: {
    type: 'bool',
    default: false,
    help: 'cluster mode: run the Pipelines of --namespace, watched on the Kubernetes API',
  },
  namespace: {
    type: 'string',
    value: 'NS',
    default: DEFAULT_NAMING.namespace,
    help: 'namespace in topic names and manifests',
  },
  'topic-prefix': { type: 'string', value: 'P', default: DEFAULT_NAMING.prefix, help: 'topic prefix' },
  inference: {
    type: 'string',
    value: 'H:GRPC',
    help: 'where the model gateway sends inference (the data-plane gateway)',
  },
  roles: { type: 'list', value: 'LIST', default: DATAFLOW_ROLES, help: 'the roles this process runs' },
  host: {
    type: 'string',
    value: 'ADDR',
    defaultHelp: 'all interfaces',
    help: 'address the pipeline gateway listens on',
  },
  'http-port': { type: 'int', value: 'N', default: PORTS.dataflowHttp, help: 'pipeline gateway REST port' },
  'grpc-port': { type: 'int', value: 'N', default: PORTS.dataflowGrpc, help: 'pipeline gateway gRPC port' },
  'timeout-ms': { type: 'int', value: 'N', default: 30_000, help: 'synchronous pipeline call timeout' },
  partitions: { type: 'int', value: 'N', default: 1, help: 'partitions of topics this process creates' },
  'replication-factor': {
    type: 'int',
    value: 'N',
    default: 1,
    help: 'replication of topics this process creates',
  },
  'instance-id': {
    type: 'string',
    value: 'ID',
    defaultHelp: 'host name',
    help: "names this process's transactional producers; keep it stable across restarts (e.g. a\nStatefulSet pod name) so a restarted process fences its predecessor",
  },
  ...TRACING,
  'log-level': LOG_LEVEL,
  help: HELP,
} as const satisfies FlagTable;

/** Every component's flags. */
export const COMPONENT_FLAGS = {
  scheduler: SCHEDULER,
  agent: AGENT,
  gateway: GATEWAY,
  dataflow: DATAFLOW,
} as const satisfies Record<string, FlagTable>;

export type Component = keyof typeof COMPONENT_FLAGS;
export const COMPONENTS = Object.keys(COMPONENT_FLAGS) as Component[];

type TypeOf<F> = F extends { type: 'int' }
  ? number
  : F extends { type: 'bool' }
    ? boolean
    : F extends { type: 'list' | 'repeated' }
      ? string[]
      : string;
type ValueOf<F> = F extends { default: unknown } ? TypeOf<F> : TypeOf<F> | undefined;

/** A component's parsed flags: a value for every flag with a default, `undefined` allowed otherwise. */
export type FlagValues<C extends Component> = {
  -readonly [K in keyof (typeof COMPONENT_FLAGS)[C]]: ValueOf<(typeof COMPONENT_FLAGS)[C][K]>;
};

/** A Kubernetes `$(VAR)` reference, which the kubelet expands in container args. */
export type EnvReference = `$(${string})`;

/** What `componentArgv` renders: any flags, each a typed value or (in manifests) a `$(VAR)`. */
export type ArgvValues<C extends Component> = {
  [K in keyof FlagValues<C>]?: FlagValues<C>[K] | EnvReference;
};

/** A bad command line; the message names the flag (callers add the usage). */
export class FlagError extends Error {}

/** Env vars as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Parses `argv` (the flags after the component name), reading each absent flag's env var, then
 * its default. Throws a `FlagError` naming every unknown flag or value that is not a whole number.
 */
export function parseFlags<C extends Component>(
  component: C,
  argv: readonly string[],
  env: Env = {},
): FlagValues<C> {
  const table: FlagTable = COMPONENT_FLAGS[component];
  let given: Record<string, string | boolean | string[] | undefined>;
  try {
    given = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(
        Object.entries(table).map(([name, flag]) => [
          name,
          { type: flag.type === 'bool' ? 'boolean' : 'string', multiple: flag.type === 'repeated' },
        ]),
      ),
    }).values as typeof given;
  } catch (err) {
    throw new FlagError(`${component}: ${(err as Error).message}`);
  }
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, flag] of Object.entries(table)) {
    const raw = given[name] ?? fromEnv(flag, env);
    if (raw === undefined) {
      values[name] = Array.isArray(flag.default) ? [...flag.default] : flag.default;
    } else if (flag.type === 'int') {
      const text = String(raw);
      if (/^\d+$/.test(text)) values[name] = Number(text);
      else problems.push(`--${name} must be a whole number, got "${text}"`);
    } else if (flag.type === 'list') {
      values[name] = splitList(String(raw));
    } else if (flag.type === 'bool') {
      values[name] = raw === true;
    } else {
      values[name] = raw;
    }
  }
  if (problems.length > 0) throw new FlagError(`${component}: ${problems.join('; ')}`);
  return values as FlagValues<C>;
}

function fromEnv(flag: Flag, env: Env): string | string[] | undefined {
  const raw = flag.env === undefined ? undefined : env[flag.env];
  if (raw === undefined) return undefined;
  if (flag.type === 'repeated') return splitList(raw);
  return flag.envInSeconds ? String(Number(raw) * 1000) : raw;
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/**
 * `[component, ...flags]`: the argv after `mlops-runtime` that gives each of `values`, in the
 * order given. `undefined` and `false` leave a flag out; the round trip through `parseFlags` is exact.
 */
export function componentArgv<C extends Component>(component: C, values: ArgvValues<C>): string[] {
  const table: FlagTable = COMPONENT_FLAGS[component];
  const argv: string[] = [component];
  for (const [name, value] of Object.entries(values as Record<string, unknown>)) {
    const flag = table[name];
    if (!flag) throw new FlagError(`${component} has no flag --${name}`);
    if (value === undefined || value === false) continue;
    if (value === true) argv.push(`--${name}`);
    else if (flag.type === 'repeated' && Array.isArray(value)) {
      for (const item of value) argv.push(...option(name, String(item)));
    } else argv.push(...option(name, Array.isArray(value) ? value.join(',') : String(value)));
  }
  return argv;
}

// `--flag=value` when the value could be taken for a flag of its own, or is empty.
function option(name: string, value: string): string[] {
  return value === '' || value.startsWith('-') ? [`--${name}=${value}`] : [`--${name}`, value];
}

/** The usage text of a component, from its table: each flag with its default and env var. */
export function usage(component: Component): string {
  const table: FlagTable = COMPONENT_FLAGS[component];
  const heads = Object.entries(table).map(([name, flag]) =>
    flag.value ? `--${name} ${flag.value}` : `--${name}`,
  );
  const width = Math.max(...heads.map((h) => h.length)) + 2;
  const lines = [`usage: mlops-runtime ${component} [options]`];
  Object.values(table).forEach((flag, i) => {
    const notes = flagNotes(flag);
    const help = (notes ? `${flag.help} (${notes})` : flag.help).split('\n');
    lines.push(`  ${heads[i].padEnd(width)}${help[0]}`);
    for (const more of help.slice(1)) lines.push(`  ${' '.repeat(width)}${more}`);
  });
  return lines.join('\n');
}

function flagNotes(flag: Flag): string {
  const notes: string[] = [];
  const shown = flag.defaultHelp ?? defaultText(flag.default);
  if (shown) notes.push(`default ${shown}`);
  if (flag.env) notes.push(`env ${flag.env}${flag.envInSeconds ? ', in seconds' : ''}`);
  if (flag.type === 'repeated') notes.push('repeatable');
  return notes.join('; ');
}

function defaultText(value: Flag['default']): string | undefined {
  if (value === undefined || value === false) return undefined;
  if (Array.isArray(value)) return value.length > 0 ? value.join(',') : undefined;
  return typeof value === 'string' && value === '' ? undefined : String(value);
}
