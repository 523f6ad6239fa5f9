import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { cachePath, pinnedVersion, provisioned } from './cache.ts';
import { freePort } from './ports.ts';
import { startProcess, waitUntilReady } from './process.ts';

/** One scrape target: its URL and the labels Prometheus adds to its series. */
export interface ScrapeTarget {
  url: string;
  labels: Record<string, string>;
}

export interface QueryResult {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

export interface PrometheusInstance {
  url: string;
  /** An instant query through the HTTP API (a parse error comes back as `status: 'error'`). */
  query(expr: string): Promise<QueryResult>;
  logFile: string;
  stop(): Promise<void>;
}

export function prometheusBinary(): string {
  const dir = cachePath('prometheus', `v${pinnedVersion('PROMETHEUS_VERSION')}`);
  return join(provisioned('prometheus', dir), 'prometheus');
}

/**
 * Starts Prometheus on a free 127.0.0.1 port, scraping `targets` every `intervalS` seconds, with
 * its storage in a temporary folder removed on stop.
 */
export async function startPrometheus(targets: ScrapeTarget[], intervalS = 1): Promise<PrometheusInstance> {
  const bin = prometheusBinary();
  const dir = mkdtempSync(join(tmpdir(), 'mlops-e2e-prometheus-'));
  mkdirSync(join(dir, 'data'));
  const config = {
    global: { scrape_interval: `${intervalS}s`, scrape_timeout: `${intervalS}s` },
    scrape_configs: targets.map((t, i) => {
      const u = new URL(t.url);
      return {
        job_name: `target-${i}`,
        metrics_path: u.pathname,
        static_configs: [{ targets: [u.host], labels: t.labels }],
      };
    }),
  };
  writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(tmpdir(), `mlops-e2e-prometheus-${port}.log`);
  const proc = startProcess(
    'prometheus',
    bin,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { logFile, cwd: dir },
  );
  await waitUntilReady(proc, `Prometheus on ${url}`, async () => (await fetch(`${url}/-/ready`)).ok, 30_000);
  return {
    url,
    logFile,
    async query(expr) {
      const res = await fetch(`${url}/api/v1/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ query: expr }),
      });
      return (await res.json()) as QueryResult;
    },
    async stop() {
      await proc.stop(5_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
