// Gateway overhead: OIP infer over REST and gRPC through `mlops-runtime gateway` versus straight
// to the server, in the same run: first against MLServer serving a real model, then against a
// minimal Node server that isolates the cost of the hop; and against that server, the gateway with
// tracing off and on (every request, and one in a hundred). The server, the gateway and this load
// generator are separate processes sharing the machine's cores.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { encodeRequest, encodeResponse } from '../src/runtime/oip/messages.ts';
import { startMlserver, trainIrisModel } from '../test/e2e/harness/index.ts';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
/** Direct, gateway and bare-proxy runs alternate this many times; medians are reported. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = 32;
const here = fileURLToPath(import.meta.url);

const REST_BODY = JSON.stringify({
  inputs: [{ name: 'predict', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2] }],
});
const REST_ANSWER = JSON.stringify({
  model_name: 'iris',
  id: '1',
  outputs: [{ name: 'predict', shape: [1], datatype: 'INT64', data: [0] }],
});

function frame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

const GRPC_REQUEST = frame(
  encodeRequest({
    modelName: 'iris',
    inputs: [
      { name: 'predict', datatype: 'FP32', shape: [1, 4], contents: { fp32Contents: [5.1, 3.5, 1.4, 0.2] } },
    ],
  }),
);
const GRPC_ANSWER = frame(
  encodeResponse({
    modelName: 'iris',
    outputs: [{ name: 'predict', datatype: 'INT64', shape: [1], contents: { int64Contents: [0] } }],
  }),
);

/** A minimal OIP server (the stand-in for an inference server or agent): fixed answers. */
function serveUpstream(httpPort: number, grpcPort: number): void {
  http
    .createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(REST_ANSWER));
    })
    .listen(httpPort, '127.0.0.1');
  http2
    .createServer()
    .on('stream', (stream) => {
      stream.resume();
      stream.on('end', () => {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(GRPC_ANSWER);
      });
    })
    .listen(grpcPort, '127.0.0.1');
}

/**
 * The floor for any Node proxy: a bare forwarder with the gateway's HTTP client and HTTP/2 session
 * handling but no routing, validation, headers, metrics or retries.
 */
function serveBareProxy(httpPort: number, grpcPort: number, upHttp: number, upGrpc: number): void {
  const pool = new Pool(`http://127.0.0.1:${upHttp}`, { connections: 128, keepAliveTimeout: 30_000 });
  http
    .createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const up = await pool.request({
        method: 'POST',
        path: req.url ?? '/',
        headers: { 'content-type': 'application/json' },
        body: Buffer.concat(chunks),
      });
      const body = Buffer.from(await up.body.arrayBuffer());
      res
        .writeHead(up.statusCode, { 'content-type': 'application/json', 'content-length': body.length })
        .end(body);
    })
    .listen(httpPort, '127.0.0.1');
  let session: http2.ClientHttp2Session | undefined;
  http2
    .createServer()
    .on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        session ??= http2.connect(`http://127.0.0.1:${upGrpc}`);
        const up = session.request({
          ':method': 'POST',
          ':path': headers[':path'],
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        const out: Buffer[] = [];
        let trailers: http2.IncomingHttpHeaders = {};
        up.on('trailers', (t) => {
          trailers = t;
        });
        up.on('data', (c: Buffer) => out.push(c));
        up.on('end', () => {
          stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
          stream.once('wantTrailers', () =>
            stream.sendTrailers({ 'grpc-status': String(trailers['grpc-status']) }),
          );
          stream.end(Buffer.concat(out));
        });
        up.end(Buffer.concat(chunks));
      });
    })
    .listen(grpcPort, '127.0.0.1');
}

/**
 * An OTLP/HTTP receiver that accepts and drops what it is sent, counting it: the gateway pays for
 * making and exporting spans without a collector's own work landing on the same cores.
 */
function serveOtlpSink(port: number): void {
  let posts = 0;
  let bytes = 0;
  http
    .createServer((req, res) => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ posts, bytes }));
        return;
      }
      req.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      req.on('end', () => {
        posts++;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    })
    .listen(port, '127.0.0.1');
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).status < 500) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

interface Result {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU ms per 1,000 requests of each process during the measured window (when /proc is readable). */
  cpu: { loadgen: number; upstream?: number; gateway?: number };
}

/** Processes whose CPU time is accounted during a run. */
interface Processes {
  upstream?: number;
  gateway?: number;
}

/** Closed-loop load: CONCURRENCY callers, each sending the next request when the last returns. */
async function load(send: () => Promise<boolean>, pids: Processes): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  // Warm-up: connections, JIT.
  const warmEnd = Date.now() + 500;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < warmEnd) await send();
    }),
  );
  const cpuBefore = {
    self: process.cpuUsage(),
    upstream: cpuMsOf(pids.upstream),
    gateway: cpuMsOf(pids.gateway),
  };
  const started = performance.now();
  const end = started + DURATION_MS;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        const ok = await send();
        latencies.push(performance.now() - t);
        if (!ok) errors++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const self = process.cpuUsage(cpuBefore.self);
  const perK = (ms: number | undefined) => (ms === undefined ? undefined : (ms * 1000) / latencies.length);
  const delta = (before: number | undefined, pid: number | undefined) => {
    const after = cpuMsOf(pid);
    return before === undefined || after === undefined ? undefined : after - before;
  };
  const cpu = {
    loadgen: perK((self.user + self.system) / 1000) as number,
    upstream: perK(delta(cpuBefore.upstream, pids.upstream)),
    gateway: pids.gateway === undefined ? undefined : perK(delta(cpuBefore.gateway, pids.gateway)),
  };
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), errors, cpu };
}

function restSender(port: number): () => Promise<boolean> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  return () =>
    new Promise((resolve) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/v2/models/iris/infer',
          agent,
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode === 200));
        },
      );
      req.on('error', () => resolve(false));
      req.end(REST_BODY);
    });
}

function grpcSender(port: number): { send: () => Promise<boolean>; close(): void } {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  return {
    send: () =>
      new Promise((resolve) => {
        const req = session.request({
          ':method': 'POST',
          ':path': '/inference.GRPCInferenceService/ModelInfer',
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        let status = '';
        req.on('trailers', (t) => {
          status = String(t['grpc-status']);
        });
        req.on('response', (h) => {
          if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
        });
        req.resume();
        req.on('end', () => resolve(status === '0'));
        req.on('error', () => resolve(false));
        req.end(GRPC_REQUEST);
      }),
    close: () => session.close(),
  };
}

function spawnNode(args: string[], nodeArgs: string[] = []): ChildProcess {
  return spawn(process.execPath, [...nodeArgs, '--import', 'tsx', ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** CPU time (user + system, ms) a process has used so far, from /proc; undefined elsewhere. */
function cpuMsOf(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** A gateway process with a static route from `iris` to one upstream. */
async function startGateway(
  dir: string,
  upstream: { httpPort: number; grpcPort: number },
  nodeArgs: string[],
  extraArgs: string[] = [],
): Promise<{ child: ChildProcess; httpPort: number; grpcPort: number }> {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const routes = join(dir, `routes-${upstream.httpPort}.json`);
  writeFileSync(routes, JSON.stringify({ models: { iris: [{ host: '127.0.0.1', ...upstream }] } }));
  const child = spawnNode(
    [
      join(here, '../../bin/mlops-runtime.js'),
      'gateway',
      '--routes',
      routes,
      '--http-port',
      String(httpPort),
      '--grpc-port',
      String(grpcPort),
      '--log-level',
      'warn',
      ...extraArgs,
    ],
    nodeArgs,
  );
  await waitFor(`http://127.0.0.1:${httpPort}/v2/health/live`);
  return { child, httpPort, grpcPort };
}

/** Both protocols against one server: direct, through the gateway and, when given, a bare proxy. */
async function compareProtocols(
  server: { httpPort: number; grpcPort: number; pid?: number },
  gateway: { httpPort: number; grpcPort: number; pid?: number },
  bare?: { httpPort: number; grpcPort: number; pid?: number },
): Promise<Row[]> {
  const pids = {
    direct: { upstream: server.pid },
    via: { upstream: server.pid, gateway: gateway.pid },
    bare: { upstream: server.pid, gateway: bare?.pid },
  };
  const rest = {
    direct: restSender(server.httpPort),
    via: restSender(gateway.httpPort),
    bare: bare && restSender(bare.httpPort),
  };
  const rows = [await measure('REST', rest, pids)];
  const grpc = {
    direct: grpcSender(server.grpcPort),
    via: grpcSender(gateway.grpcPort),
    bare: bare && grpcSender(bare.grpcPort),
  };
  try {
    rows.push(
      await measure('gRPC', { direct: grpc.direct.send, via: grpc.via.send, bare: grpc.bare?.send }, pids),
    );
  } finally {
    for (const c of Object.values(grpc)) c?.close();
  }
  return rows;
}

/** MLServer serving a scikit-learn iris classifier, loaded through its repository API. */
async function startIrisServer(dir: string): Promise<{
  httpPort: number;
  grpcPort: number;
  pid: number;
  stop(): Promise<void>;
}> {
  const server = await startMlserver({ modelsDir: join(dir, 'models') });
  try {
    await trainIrisModel(join(dir, 'models'));
    const res = await fetch(`${server.httpUrl}/v2/repository/models/iris/load`, { method: 'POST' });
    if (!res.ok) throw new Error(`loading iris into MLServer: ${res.status} ${await res.text()}`);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return {
    httpPort: Number(new URL(server.httpUrl).port),
    grpcPort: Number(server.grpcAddress.split(':')[1]),
    pid: server.pid,
    stop: () => server.stop(),
  };
}

async function main(): Promise<void> {
  const [upHttp, upGrpc, bareHttp, bareGrpc] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const dir = mkdtempSync(join(tmpdir(), 'bench-gateway-'));
  // BENCH_CPU_PROF=<dir> writes V8 CPU profiles of the gateways and the bare proxy there.
  const profileDir = process.env.BENCH_CPU_PROF;
  const profiling = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const children: ChildProcess[] = [];
  let mlserver: Awaited<ReturnType<typeof startIrisServer>> | undefined;
  try {
    mlserver = await startIrisServer(dir);
    const irisGateway = await startGateway(dir, mlserver, profiling);
    children.push(irisGateway.child);
    const real = await compareProtocols(mlserver, { ...irisGateway, pid: irisGateway.child.pid });
    irisGateway.child.kill();
    await mlserver.stop();
    mlserver = undefined;

    const upstream = spawnNode([here, '--upstream', String(upHttp), String(upGrpc)]);
    const bare = spawnNode(
      [here, '--bare-proxy', ...[bareHttp, bareGrpc, upHttp, upGrpc].map(String)],
      profiling,
    );
    children.push(upstream, bare);
    await waitFor(`http://127.0.0.1:${upHttp}/`);
    await waitFor(`http://127.0.0.1:${bareHttp}/`);
    const standIn = { httpPort: upHttp, grpcPort: upGrpc, pid: upstream.pid };
    const gateway = await startGateway(dir, standIn, profiling);
    children.push(gateway.child);
    const stand = await compareProtocols(
      standIn,
      { ...gateway, pid: gateway.child.pid },
      { httpPort: bareHttp, grpcPort: bareGrpc, pid: bare.pid },
    );
    const traced = await compareTracing(dir, standIn, children);
    process.stdout.write(`${[...report(real, stand), '', ...traced].join('\n')}\n`);
  } finally {
    for (const child of children) child.kill();
    await Promise.all(children.map(exited));
    await mlserver?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

type Path = 'direct' | 'via' | 'bare';

interface Latency {
  p50: number;
  p99: number;
  errors: number;
}

interface Row {
  name: string;
  /** Per path, the median of each figure over the rounds. */
  direct: Result;
  via: Result;
  /** Through the bare proxy: what one extra Node hop costs on these cores with no gateway logic. */
  bare?: Result;
  /** Medians of the per-round comparisons (each round runs the paths back to back). */
  ratio: number;
  bareRatio?: number;
  /** Requests per second offered in the open-loop runs: half the gateway's closed-loop rate. */
  rate: number;
  open: { direct: Latency; via: Latency; bare?: Latency };
  addedP50: number;
  addedP99: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function medianResult(rs: Result[]): Result {
  const m = (f: (r: Result) => number | undefined) => {
    const xs = rs.map(f).filter((x): x is number => x !== undefined);
    return xs.length === rs.length ? median(xs) : undefined;
  };
  return {
    rps: median(rs.map((r) => r.rps)),
    p50: median(rs.map((r) => r.p50)),
    p99: median(rs.map((r) => r.p99)),
    errors: rs.reduce((n, r) => n + r.errors, 0),
    cpu: {
      loadgen: median(rs.map((r) => r.cpu.loadgen)),
      upstream: m((r) => r.cpu.upstream),
      gateway: m((r) => r.cpu.gateway),
    },
  };
}

/**
 * Open loop: requests start on a fixed schedule whatever the answers do, and each latency is
 * counted from its scheduled start, so a stall shows in the figures instead of slowing the load.
 */
async function openLoop(send: () => Promise<boolean>, rate: number): Promise<Latency> {
  const latencies: number[] = [];
  let errors = 0;
  const pending: Promise<void>[] = [];
  const total = Math.floor((rate * DURATION_MS) / 1000);
  const started = performance.now() + 100;
  let sent = 0;
  while (sent < total) {
    const now = performance.now();
    while (sent < total && started + (sent * 1000) / rate <= now) {
      const due = started + (sent * 1000) / rate;
      sent++;
      pending.push(
        send().then((ok) => {
          latencies.push(performance.now() - due);
          if (!ok) errors++;
        }),
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { p50: at(0.5), p99: at(0.99), errors };
}

/** Alternates the paths ROUNDS times so load from elsewhere hits them alike. */
async function measure(
  name: string,
  senders: { direct: () => Promise<boolean>; via: () => Promise<boolean>; bare?: () => Promise<boolean> },
  pids: Record<Path, Processes>,
): Promise<Row> {
  const paths: Path[] = senders.bare ? ['direct', 'via', 'bare'] : ['direct', 'via'];
  const runs: Record<Path, Result[]> = { direct: [], via: [], bare: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const path of paths)
      runs[path].push(await load(senders[path] as () => Promise<boolean>, pids[path]));
  }
  const per = (f: (d: Result, o: Result) => number, other: Path) =>
    median(runs.direct.map((d, i) => f(d, runs[other][i])));
  const rate = Math.round(median(runs.via.map((r) => r.rps)) / 2);
  const open: Record<Path, Latency[]> = { direct: [], via: [], bare: [] };
  for (let round = 0; round < ROUNDS; round++) {
    open.direct.push(await openLoop(senders.direct, rate));
    open.via.push(await openLoop(senders.via, rate));
    if (senders.bare) open.bare.push(await openLoop(senders.bare, rate));
  }
  const latency = (ls: Latency[]): Latency => ({
    p50: median(ls.map((l) => l.p50)),
    p99: median(ls.map((l) => l.p99)),
    errors: ls.reduce((n, l) => n + l.errors, 0),
  });
  const added = (f: (l: Latency) => number) => median(open.direct.map((d, i) => f(open.via[i]) - f(d)));
  return {
    name,
    direct: medianResult(runs.direct),
    via: medianResult(runs.via),
    bare: senders.bare ? medianResult(runs.bare) : undefined,
    ratio: per((d, g) => g.rps / d.rps, 'via'),
    bareRatio: senders.bare ? per((d, b) => b.rps / d.rps, 'bare') : undefined,
    rate,
    open: {
      direct: latency(open.direct),
      via: latency(open.via),
      bare: senders.bare ? latency(open.bare) : undefined,
    },
    addedP50: added((l) => l.p50),
    addedP99: added((l) => l.p99),
  };
}

function targetTable(rows: Row[]): string[] {
  const f = (n: number) => n.toFixed(2);
  const met = (ok: boolean) => (ok ? 'met' : 'not met');
  return [
    '| protocol | direct req/s | via gateway req/s | ratio (target ≥ 0.7) | open-loop rate req/s | direct p50 / p99 ms | via gateway p50 / p99 ms | added p50 ms (target ≤ 1) | added p99 ms | errors |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.direct.rps.toFixed(0)} | ${r.via.rps.toFixed(0)} | ${f(r.ratio)} (${met(r.ratio >= 0.7)}) | ${r.rate} | ${f(r.open.direct.p50)} / ${f(r.open.direct.p99)} | ${f(r.open.via.p50)} / ${f(r.open.via.p99)} | ${f(r.addedP50)} (${met(r.addedP50 <= 1)}) | ${f(r.addedP99)} | ${r.direct.errors + r.via.errors + r.open.direct.errors + r.open.via.errors} |`,
    ),
  ];
}

function report(real: Row[], stand: Row[]): string[] {
  const f = (n: number) => n.toFixed(2);
  const ms = (n: number | undefined) => (n === undefined ? 'n/a' : n.toFixed(0));
  const total = (r: Result) =>
    r.cpu.upstream === undefined ? undefined : r.cpu.loadgen + r.cpu.upstream + (r.cpu.gateway ?? 0);
  const ceiling = (d: Result, r: Result) => {
    const [td, tr] = [total(d), total(r)];
    return td === undefined || tr === undefined ? 'n/a' : (td / tr).toFixed(2);
  };
  return [
    '## Gateway: OIP infer through the gateway vs straight to the server',
    '',
    `Throughput: closed loop, ${CONCURRENCY} concurrent callers, ${DURATION_MS / 1000} s per run after a 0.5 s warm-up. Latency: open loop at a fixed rate (half the gateway's closed-loop throughput, the same rate for both paths), ${DURATION_MS / 1000} s per run, each latency counted from the request's scheduled start. Direct and gateway runs alternate ${ROUNDS} times; figures are medians, ratios and added latencies medians of the per-round comparisons. The same client, payload (one iris flower) and routing drive every run. Server, gateway and load generator share the machine's 2 cores, so the gateway competes with the server it is measured against.`,
    '',
    '### Against MLServer serving a scikit-learn classifier',
    '',
    'MLServer (inference in its main process) with the iris model loaded through its repository API; the gateway routes `iris` to it.',
    '',
    ...targetTable(real),
    '',
    '### Against a minimal Node server (the hop cost when the server does almost nothing)',
    '',
    'A Node OIP server with fixed answers stands in for the server: it spends less CPU per request than the gateway, so on shared cores this measures the hop, not a deployment. A bare Node forwarder (same HTTP client and HTTP/2 session handling, no routing, validation, headers, metrics or retries) is the floor for any Node hop.',
    '',
    ...targetTable(stand),
    '',
    '| protocol | via bare proxy req/s | ratio to direct | gateway / bare proxy throughput | bare proxy p50 / p99 ms at the open-loop rate |',
    '|---|---|---|---|---|',
    ...stand.map(
      (r) =>
        `| ${r.name} | ${r.bare?.rps.toFixed(0)} | ${f(r.bareRatio ?? 0)} | ${f(r.ratio / (r.bareRatio ?? 1))} | ${f(r.open.bare?.p50 ?? 0)} / ${f(r.open.bare?.p99 ?? 0)} |`,
    ),
    '',
    'CPU time per 1,000 requests (ms) in each closed-loop window. With the cores saturated, throughput through a hop cannot exceed direct total / via-hop total times the direct throughput: the hop does the work of an HTTP server and of an HTTP client for every request, on the same cores as the two processes it is compared with.',
    '',
    '| server | protocol | run | load generator | server | hop | total | CPU-bound ratio ceiling |',
    '|---|---|---|---|---|---|---|---|',
    ...[
      ['MLServer', real],
      ['minimal Node', stand],
    ].flatMap(([server, rows]) =>
      (rows as Row[]).flatMap(({ name, direct: d, via: g, bare: b }) => [
        `| ${server} | ${name} | direct | ${ms(d.cpu.loadgen)} | ${ms(d.cpu.upstream)} | – | ${ms(total(d))} | |`,
        `| ${server} | ${name} | via gateway | ${ms(g.cpu.loadgen)} | ${ms(g.cpu.upstream)} | ${ms(g.cpu.gateway)} | ${ms(total(g))} | ${ceiling(d, g)} |`,
        ...(b
          ? [
              `| ${server} | ${name} | via bare proxy | ${ms(b.cpu.loadgen)} | ${ms(b.cpu.upstream)} | ${ms(b.cpu.gateway)} | ${ms(total(b))} | ${ceiling(d, b)} |`,
            ]
          : []),
      ]),
    ),
  ];
}

type Tracing = 'off' | 'all' | 'hundredth';
const TRACINGS: Tracing[] = ['off', 'all', 'hundredth'];
const TRACING_LABELS: Record<Tracing, string> = {
  off: 'tracing off',
  all: 'tracing on, ratio 1.0',
  hundredth: 'tracing on, ratio 0.01',
};

/**
 * The gateway with tracing off, and on at ratio 1.0 and 0.01 (spans sent to a sink that drops
 * them), each its own process against the minimal Node server; the three alternate ROUNDS times
 * per protocol, and each figure is compared with tracing off in the same round.
 */
async function compareTracing(
  dir: string,
  standIn: { httpPort: number; grpcPort: number; pid?: number },
  children: ChildProcess[],
): Promise<string[]> {
  const sinkPort = await freePort();
  const sink = spawnNode([here, '--otlp-sink', String(sinkPort)]);
  children.push(sink);
  await waitFor(`http://127.0.0.1:${sinkPort}/`);
  const flags: Record<Tracing, string[]> = {
    off: [],
    all: ['--otlp-endpoint', `http://127.0.0.1:${sinkPort}`, '--trace-ratio', '1'],
    hundredth: ['--otlp-endpoint', `http://127.0.0.1:${sinkPort}`, '--trace-ratio', '0.01'],
  };
  const gateways = {} as Record<Tracing, { httpPort: number; grpcPort: number; pid?: number }>;
  for (const t of TRACINGS) {
    const g = await startGateway(dir, standIn, [], flags[t]);
    children.push(g.child);
    gateways[t] = { ...g, pid: g.child.pid };
  }
  const rows: string[] = [];
  const rest = Object.fromEntries(TRACINGS.map((t) => [t, restSender(gateways[t].httpPort)])) as Record<
    Tracing,
    () => Promise<boolean>
  >;
  rows.push(...(await tracingRows('REST', rest, gateways, standIn.pid)));
  const grpc = Object.fromEntries(TRACINGS.map((t) => [t, grpcSender(gateways[t].grpcPort)])) as Record<
    Tracing,
    ReturnType<typeof grpcSender>
  >;
  try {
    const sends = Object.fromEntries(TRACINGS.map((t) => [t, grpc[t].send])) as Record<
      Tracing,
      () => Promise<boolean>
    >;
    rows.push(...(await tracingRows('gRPC', sends, gateways, standIn.pid)));
  } finally {
    for (const c of Object.values(grpc)) c.close();
  }
  // Spans leave in batches every 5 s: wait for the last ones before reading what arrived.
  await new Promise((r) => setTimeout(r, 5500));
  const received = (await (await fetch(`http://127.0.0.1:${sinkPort}/`)).json()) as {
    posts: number;
    bytes: number;
  };
  return [
    '### Tracing: the gateway with tracing off and on',
    '',
    `The gateway in front of the minimal Node server, three gateway processes: tracing off; on with every request traced (ratio 1.0); on with one in a hundred (ratio 0.01). Spans go over OTLP/HTTP to a local receiver that drops them (it received ${received.posts} export requests, ${(received.bytes / 1024).toFixed(0)} KiB). Closed loop, ${CONCURRENCY} callers, ${DURATION_MS / 1000} s per run; the three alternate ${ROUNDS} times per protocol; figures are medians, ratios medians of the per-round ratios to tracing off. Target: tracing off is the gateway as before, and ratio 0.01 within noise of it (ratio ≥ 0.95).`,
    '',
    '| protocol | gateway | req/s | ratio to tracing off | p50 / p99 ms | gateway CPU ms per 1,000 requests |',
    '|---|---|---|---|---|---|',
    ...rows,
  ];
}

/** One protocol's rows of the tracing table. */
async function tracingRows(
  name: string,
  senders: Record<Tracing, () => Promise<boolean>>,
  gateways: Record<Tracing, { pid?: number }>,
  upstream: number | undefined,
): Promise<string[]> {
  const runs: Record<Tracing, Result[]> = { off: [], all: [], hundredth: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of TRACINGS) runs[t].push(await load(senders[t], { upstream, gateway: gateways[t].pid }));
  }
  return TRACINGS.map((t) => {
    const m = medianResult(runs[t]);
    const ratio = median(runs.off.map((off, i) => runs[t][i].rps / off.rps));
    const target = t === 'hundredth' ? ` (${ratio >= 0.95 ? 'met' : 'not met'})` : '';
    const cpu = m.cpu.gateway === undefined ? 'n/a' : m.cpu.gateway.toFixed(0);
    return `| ${name} | ${TRACING_LABELS[t]} | ${m.rps.toFixed(0)} | ${ratio.toFixed(2)}${target} | ${m.p50.toFixed(2)} / ${m.p99.toFixed(2)} | ${cpu} |`;
  });
}

const [mode, ...ports] = process.argv.slice(2);
if (mode === '--upstream') serveUpstream(Number(ports[0]), Number(ports[1]));
else if (mode === '--otlp-sink') serveOtlpSink(Number(ports[0]));
else if (mode === '--bare-proxy') {
  const [a, b, c, d] = ports.map(Number);
  serveBareProxy(a, b, c, d);
  // Exit normally so a requested CPU profile is written.
  process.once('SIGTERM', () => process.exit(0));
} else await main();
