import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachePath, pinnedVersion, provisioned } from './cache.ts';
import { freePort } from './ports.ts';
import { type ManagedProcess, startProcess, waitUntilReady } from './process.ts';

/** A span as Jaeger's query API returns it, with its service and parent resolved. */
export interface TracedSpan {
  spanID: string;
  traceID: string;
  operationName: string;
  service: string;
  /** The CHILD_OF reference: the parent span's id, undefined for a root. */
  parent: string | undefined;
  tags: Record<string, unknown>;
}

export interface Jaeger {
  /** OTLP/HTTP base URL the runtime sends to. */
  otlpUrl: string;
  /** The query API (and UI). */
  queryUrl: string;
  logFile: string;
  /** Every span of a trace Jaeger holds (empty when it has none yet). */
  trace(traceId: string): Promise<TracedSpan[]>;
  /** Spans of the most recent traces of a service that have an operation. */
  spans(service: string, operation: string): Promise<TracedSpan[]>;
  stop(): Promise<void>;
}

interface ApiTrace {
  traceID: string;
  spans: {
    traceID: string;
    spanID: string;
    operationName: string;
    processID: string;
    references: { refType: string; spanID: string }[];
    tags: { key: string; value: unknown }[];
  }[];
  processes: Record<string, { serviceName: string }>;
}

export function jaegerBinary(): string {
  const dir = cachePath('jaeger', `v${pinnedVersion('JAEGER_VERSION')}`);
  return join(provisioned('jaeger', dir), 'jaeger');
}

/**
 * Jaeger all-in-one with in-memory storage: an OTLP/HTTP receiver and the query API, each on a
 * free 127.0.0.1 port, nothing else listening (no other receiver, no metrics endpoint).
 */
export async function startJaeger(): Promise<Jaeger> {
  const binary = jaegerBinary();
  const dir = mkdtempSync(join(tmpdir(), 'mlops-e2e-jaeger-'));
  const [otlp, query, queryGrpc] = [await freePort(), await freePort(), await freePort()];
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: info
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:${query}
    grpc:
      endpoint: 127.0.0.1:${queryGrpc}
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${otlp}
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`,
  );
  const logFile = join(dir, 'jaeger.log');
  const proc: ManagedProcess = startProcess('jaeger', binary, ['--config', config], {
    logFile,
    env: { GOMAXPROCS: '1' },
  });
  const queryUrl = `http://127.0.0.1:${query}`;
  await waitUntilReady(
    proc,
    `Jaeger on 127.0.0.1:${otlp} (OTLP) and ${query} (query)`,
    async () => (await fetch(`${queryUrl}/api/services`)).ok,
    60_000,
  );
  const get = async (path: string): Promise<ApiTrace[]> => {
    const res = await fetch(`${queryUrl}${path}`);
    if (res.status === 404) return [];
    if (!res.ok) throw new Error(`Jaeger ${path}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { data: ApiTrace[] | null }).data ?? [];
  };
  return {
    otlpUrl: `http://127.0.0.1:${otlp}`,
    queryUrl,
    logFile,
    async trace(traceId) {
      return (await get(`/api/traces/${traceId}`)).flatMap(flatten);
    },
    async spans(service, operation) {
      const q = new URLSearchParams({ service, operation, limit: '20', lookback: '1h' });
      return (await get(`/api/traces?${q}`)).flatMap(flatten);
    },
    async stop() {
      await proc.stop(10_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function flatten(t: ApiTrace): TracedSpan[] {
  return t.spans.map((s) => ({
    spanID: s.spanID,
    traceID: s.traceID,
    operationName: s.operationName,
    service: t.processes[s.processID]?.serviceName ?? '',
    parent: s.references.find((r) => r.refType === 'CHILD_OF')?.spanID,
    tags: Object.fromEntries(s.tags.map((tag) => [tag.key, tag.value])),
  }));
}
