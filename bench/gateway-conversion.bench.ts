// What the gateway's conversions cost: the same infer call through the gateway as plain JSON (the
// baseline), with the binary tensor extension both ways (decoded to JSON for a server that reads
// only JSON and encoded back), gzip both ways, and both; over gRPC plain and gzip-compressed. A
// Node server with fixed JSON answers stands in for the model server, so the gateway's own work is
// what differs between paths. Server, gateway and load generator are separate processes.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { startGateway } from '../src/runtime/gateway/gateway.ts';
import { encodeRequest } from '../src/runtime/oip/messages.ts';
import { table } from '../test/runtime/gateway/fixtures.ts';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONCURRENCY = 16;
/** A 4 KiB tensor each way: 8 × 128 FP32. */
const SHAPE = [8, 128];
const VALUES = Array.from({ length: 8 * 128 }, (_, i) => (i % 97) / 8);
const here = fileURLToPath(import.meta.url);

const JSON_BODY = Buffer.from(
  JSON.stringify({ inputs: [{ name: 'x', shape: SHAPE, datatype: 'FP32', data: VALUES }] }),
);
const ANSWER = JSON.stringify({
  model_name: 'm',
  outputs: [{ name: 'y', shape: SHAPE, datatype: 'FP32', data: VALUES }],
});
const raw = Buffer.alloc(VALUES.length * 4);
for (const [i, v] of VALUES.entries()) raw.writeFloatLE(v, i * 4);
const binaryHeader = Buffer.from(
  JSON.stringify({
    inputs: [{ name: 'x', shape: SHAPE, datatype: 'FP32', parameters: { binary_data_size: raw.length } }],
    parameters: { binary_data_output: true },
  }),
);
const BINARY_BODY = Buffer.concat([binaryHeader, raw]);
const GRPC_MESSAGE = encodeRequest({
  modelName: 'm',
  inputs: [{ name: 'x', datatype: 'FP32', shape: SHAPE, contents: { fp32Contents: VALUES } }],
});
const GRPC_ANSWER = frame(encodeRequest({ modelName: 'm', inputs: [] }), 0);

function frame(message: Uint8Array, flag: number): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out[0] = flag;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

interface Path {
  name: string;
  grpc?: boolean;
  body: Buffer;
  headers: Record<string, string>;
}

const PATHS: Path[] = [
  { name: 'REST JSON (baseline)', body: JSON_BODY, headers: { 'content-type': 'application/json' } },
  {
    name: 'REST binary both ways',
    body: BINARY_BODY,
    headers: { 'inference-header-content-length': String(binaryHeader.length) },
  },
  {
    name: 'REST JSON, gzip both ways',
    body: zlib.gzipSync(JSON_BODY),
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'accept-encoding': 'gzip' },
  },
  {
    name: 'REST binary + gzip both ways',
    body: zlib.gzipSync(BINARY_BODY),
    headers: {
      'inference-header-content-length': String(binaryHeader.length),
      'content-encoding': 'gzip',
      'accept-encoding': 'gzip',
    },
  },
  { name: 'gRPC (baseline)', grpc: true, body: frame(GRPC_MESSAGE, 0), headers: {} },
  {
    name: 'gRPC gzip request',
    grpc: true,
    body: frame(zlib.gzipSync(GRPC_MESSAGE), 1),
    headers: { 'grpc-encoding': 'gzip' },
  },
];

/** The stand-in model server: fixed answers, as little work as possible. */
function serveUpstream(httpPort: number, grpcPort: number): void {
  http
    .createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(ANSWER));
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

async function serveGateway(httpPort: number, grpcPort: number, upHttp: number, upGrpc: number) {
  await startGateway({
    routes: table({ models: { m: [{ host: '127.0.0.1', httpPort: upHttp, grpcPort: upGrpc }] } }),
    host: '127.0.0.1',
    httpPort,
    grpcPort,
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function cpuMs(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, USER_HZ = 100
}

function sender(path: Path, httpPort: number, grpcPort: number): { send(): Promise<boolean>; close(): void } {
  if (path.grpc) {
    const session = http2.connect(`http://127.0.0.1:${grpcPort}`);
    return {
      send: () =>
        new Promise((resolve) => {
          const req = session.request({
            ':method': 'POST',
            ':path': '/inference.GRPCInferenceService/ModelInfer',
            'content-type': 'application/grpc',
            te: 'trailers',
            ...path.headers,
          });
          let status = '';
          req.on('trailers', (t) => {
            status = String(t['grpc-status']);
          });
          req.resume();
          req.on('end', () => resolve(status === '0'));
          req.on('error', () => resolve(false));
          req.end(path.body);
        }),
      close: () => session.close(),
    };
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  return {
    send: () =>
      new Promise((resolve) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port: httpPort,
            method: 'POST',
            path: '/v2/models/m/infer',
            agent,
            headers: { ...path.headers, 'content-length': String(path.body.length) },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode === 200));
          },
        );
        req.on('error', () => resolve(false));
        req.end(path.body);
      }),
    close: () => agent.destroy(),
  };
}

interface Result {
  rps: number;
  p50: number;
  gatewayCpuUs: number;
  errors: number;
}

async function load(send: () => Promise<boolean>, gatewayPid: number | undefined): Promise<Result> {
  const warmEnd = Date.now() + 300;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < warmEnd) await send();
    }),
  );
  const latencies: number[] = [];
  let errors = 0;
  const cpuBefore = cpuMs(gatewayPid);
  const started = performance.now();
  const end = started + DURATION_MS;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        if (!(await send())) errors++;
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / elapsed,
    p50: latencies[Math.floor(latencies.length / 2)],
    gatewayCpuUs: ((cpuMs(gatewayPid) - cpuBefore) * 1000) / latencies.length,
    errors,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function spawnChild(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', here, ...args], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

async function main(): Promise<void> {
  const [upHttp, upGrpc, gwHttp, gwGrpc] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const upstream = spawnChild(['--upstream', String(upHttp), String(upGrpc)]);
  const gateway = spawnChild(['--gateway', ...[gwHttp, gwGrpc, upHttp, upGrpc].map(String)]);
  try {
    await waitFor(`http://127.0.0.1:${upHttp}/`);
    await waitFor(`http://127.0.0.1:${gwHttp}/v2/health/live`);
    const senders = PATHS.map((p) => sender(p, gwHttp, gwGrpc));
    const runs: Result[][] = PATHS.map(() => []);
    // Paths alternate within each round so load from elsewhere hits them alike.
    for (let round = 0; round < ROUNDS; round++)
      for (const [i, s] of senders.entries()) runs[i].push(await load(s.send, gateway.pid));
    for (const s of senders) s.close();
    process.stdout.write(`${report(runs).join('\n')}\n`);
  } finally {
    upstream.kill();
    gateway.kill();
  }
}

function report(runs: Result[][]): string[] {
  const f = (x: number, d = 0) => x.toFixed(d);
  const rows = runs.map((rs) => ({
    rps: median(rs.map((r) => r.rps)),
    p50: median(rs.map((r) => r.p50)),
    cpu: median(rs.map((r) => r.gatewayCpuUs)),
    errors: rs.reduce((n, r) => n + r.errors, 0),
  }));
  const baseline = (i: number) => rows[PATHS[i].grpc ? PATHS.findIndex((p) => p.grpc) : 0];
  const lines = PATHS.map((p, i) => {
    const r = rows[i];
    const b = baseline(i);
    const ratio = r.rps / b.rps;
    const isBaseline = b === r;
    const verdict = isBaseline ? '—' : `${f(ratio, 2)} (${ratio >= 0.5 ? 'met' : 'not met'})`;
    return `| ${p.name} | ${f(r.rps)} | ${f(r.p50, 2)} | ${f(r.cpu)} | ${isBaseline ? '—' : `+${f(r.cpu - b.cpu)}`} | ${verdict} | ${r.errors} |`;
  });
  return [
    '## Gateway: cost of binary-extension and gzip conversion',
    '',
    `One infer call with an 8 × 128 FP32 tensor (4 KiB raw, ${JSON_BODY.length} bytes as JSON) in and the same out, through the gateway to a Node server with fixed JSON answers (so the gateway's work is what differs). Closed loop, ${CONCURRENCY} concurrent callers, ${DURATION_MS / 1000} s per run after a 0.3 s warm-up; the paths alternate ${ROUNDS} times and figures are medians. Gateway CPU is its process's user + system time per request. The binary path decodes the request to JSON for the server and encodes the answer back to binary; the gzip paths decompress the request and compress the answer. Target: a conversion path keeps at least half of its plain path's throughput. Load average when the run ended: ${loadavg()[0].toFixed(1)} on ${cpus().length} cores (other work shares the machine; gateway CPU per request is the steadier figure).`,
    '',
    '| path | req/s | p50 ms | gateway CPU µs/request | added CPU µs | throughput vs plain (target ≥ 0.5) | errors |',
    '| --- | ---: | ---: | ---: | ---: | --- | ---: |',
    ...lines,
  ];
}

const mode = process.argv[2];
if (mode === '--upstream') serveUpstream(Number(process.argv[3]), Number(process.argv[4]));
else if (mode === '--gateway') {
  const [a, b, c, d] = process.argv.slice(3).map(Number);
  void serveGateway(a, b, c, d);
} else await main();
