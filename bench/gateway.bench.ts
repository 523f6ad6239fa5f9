// Gateway overhead: OIP infer over REST and gRPC through `mlops-runtime gateway` versus straight
// to the inference server, in the same run. The server, the gateway and this load generator are
// separate processes sharing the machine's cores, so every figure is a floor.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeRequest, encodeResponse } from '../src/runtime/oip/messages.ts';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
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
}

/** Closed-loop load: CONCURRENCY callers, each sending the next request when the last returns. */
async function load(send: () => Promise<boolean>): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  // Warm-up: connections, JIT.
  const warmEnd = Date.now() + 500;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < warmEnd) await send();
    }),
  );
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
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), errors };
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

function spawnNode(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function main(): Promise<void> {
  const [upHttp, upGrpc, gwHttp, gwGrpc] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const dir = mkdtempSync(join(tmpdir(), 'bench-gateway-'));
  const routes = join(dir, 'routes.json');
  writeFileSync(
    routes,
    JSON.stringify({ models: { iris: [{ host: '127.0.0.1', httpPort: upHttp, grpcPort: upGrpc }] } }),
  );
  const upstream = spawnNode([here, '--upstream', String(upHttp), String(upGrpc)]);
  const gateway = spawnNode([
    join(here, '../../bin/mlops-runtime.js'),
    'gateway',
    '--routes',
    routes,
    '--http-port',
    String(gwHttp),
    '--grpc-port',
    String(gwGrpc),
    '--log-level',
    'warn',
  ]);
  try {
    await waitFor(`http://127.0.0.1:${upHttp}/`);
    await waitFor(`http://127.0.0.1:${gwHttp}/v2/health/live`);
    const rows: [string, Result, Result][] = [];
    rows.push(['REST', await load(restSender(upHttp)), await load(restSender(gwHttp))]);
    const directGrpc = grpcSender(upGrpc);
    const viaGrpc = grpcSender(gwGrpc);
    rows.push(['gRPC', await load(directGrpc.send), await load(viaGrpc.send)]);
    directGrpc.close();
    viaGrpc.close();
    const f = (n: number) => n.toFixed(2);
    const lines = [
      '## Gateway: OIP infer through the gateway vs straight to the server',
      '',
      `Closed loop, ${CONCURRENCY} concurrent callers, ${DURATION_MS / 1000} s per run after a 0.5 s warm-up; a minimal Node OIP server stands in for the inference server; server, gateway and load generator share the cores.`,
      '',
      '| protocol | direct req/s | via gateway req/s | ratio (target ≥ 0.7) | direct p50 / p99 ms | via gateway p50 / p99 ms | added p50 ms (target ≤ 1) | added p99 ms | errors |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows.map(
        ([name, d, g]) =>
          `| ${name} | ${d.rps.toFixed(0)} | ${g.rps.toFixed(0)} | ${(g.rps / d.rps).toFixed(2)} | ${f(d.p50)} / ${f(d.p99)} | ${f(g.p50)} / ${f(g.p99)} | ${f(g.p50 - d.p50)} | ${f(g.p99 - d.p99)} | ${d.errors + g.errors} |`,
      ),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    upstream.kill();
    gateway.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--upstream') serveUpstream(Number(process.argv[3]), Number(process.argv[4]));
else await main();
