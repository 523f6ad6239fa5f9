// The gateway process under hostile input, with real MLServer behind it, started as the Runtime
// synthesizes it (its flags, its heap setting): floods of large bodies, deep JSON, malformed
// paths, ids and headers, and a model whose errors carry a traceback. Its peak RSS stays under
// the memory limit synthesized for it, and it keeps serving.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdk8s';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Environment } from '../../src/constructs/environment.ts';
import { Runtime } from '../../src/constructs/runtime.ts';
import { parseQuantity } from '../../src/spec/quantity.ts';
import { synthesizeObjects } from '../../src/synth/synthesize.ts';
import { grpcClient } from '../runtime/gateway/grpc-fixtures.ts';
import {
  freePort,
  logTail,
  type ManagedProcess,
  type MlserverInstance,
  repoRoot,
  startMlserver,
  startProcess,
  trainIrisModel,
  waitUntilReady,
} from './harness/index.ts';
import { describeE2E } from './harness/toolchain.ts';

const MiB = 1024 * 1024;
const FLOWERS = [5.1, 3.5, 1.4, 0.2, 6.4, 3.2, 4.5, 1.5, 6.3, 3.3, 6.0, 2.5];
const IRIS = JSON.stringify({
  inputs: [{ name: 'predict', shape: [3, 4], datatype: 'FP64', data: FLOWERS }],
});

// A model whose inference fails reading a file under the server's folders: MLServer (debug on,
// its default) answers REST with the whole Python traceback and gRPC with the exception.
const BROKEN_MODEL = `
import os
from mlserver import MLModel

class BrokenModel(MLModel):
    async def load(self) -> bool:
        return True

    async def predict(self, payload):
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights", "layer0.bin")) as f:
            return f.read()
`;

interface GatewayContainer {
  args: string[];
  env?: { name: string; value: string }[];
  resources: { limits: { memory: string } };
}

/** The gateway container as the default Runtime synthesizes it. */
function synthesizedGateway(): { args: string[]; env: Record<string, string>; memoryLimit: number } {
  const app = new App({ outdir: 'unused' });
  new Runtime(new Environment(app, 'prod', { namespace: 'prod' }), 'runtime');
  const deploy = synthesizeObjects(app)
    .map((o) => o.manifest as { kind: string; metadata: { name: string } })
    .find((o) => o.kind === 'Deployment' && o.metadata.name === 'mlops-gateway') as
    | { spec: { template: { spec: { containers: GatewayContainer[] } } } }
    | undefined;
  if (!deploy) throw new Error('the Runtime synthesized no gateway Deployment');
  const [c] = deploy.spec.template.spec.containers;
  const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
  return { args: c.args, env, memoryLimit: parseQuantity(c.resources.limits.memory) as number };
}

/** `args` without the given flags and their values. */
function withoutFlags(args: string[], flags: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (flags.includes(args[i])) i++;
    else out.push(args[i]);
  }
  return out;
}

/** Peak resident memory of a process, in bytes. */
function peakRss(pid: number): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** Sends `text` as is on a new connection; resolves with the status and the body. */
function raw(port: number, text: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(text));
    let out = '';
    socket.on('data', (d) => {
      out += d.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const at = out.indexOf('\r\n\r\n');
      let body = out.slice(at + 4);
      if (/transfer-encoding: chunked/i.test(out.slice(0, at))) body = body.split('\r\n')[1] ?? '';
      resolve({ status: Number(out.split(' ')[1]), body });
    });
  });
}

const rawPost = (path: string, body: string, header = '') =>
  Buffer.from(
    `POST ${path} HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n${header}\r\n${body}`,
  );

describeE2E('gateway under hostile input, real MLServer behind', ['python3'], () => {
  let dir: string;
  let mlserver: MlserverInstance;
  let gateway: ManagedProcess;
  let url: string;
  let grpcPort: number;
  let memoryLimit: number;
  let budget: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlops-e2e-hostile-'));
    await trainIrisModel(dir, 'iris');
    const broken = join(dir, 'broken');
    rmSync(broken, { recursive: true, force: true });
    mkdirSync(broken);
    writeFileSync(join(broken, 'broken_model.py'), BROKEN_MODEL);
    writeFileSync(
      join(broken, 'model-settings.json'),
      JSON.stringify({ name: 'broken', implementation: 'broken_model.BrokenModel' }),
    );
    mlserver = await startMlserver({ modelsDir: dir });
    for (const name of ['iris', 'broken']) {
      const res = await fetch(`${mlserver.httpUrl}/v2/repository/models/${name}/load`, { method: 'POST' });
      expect(res.status, await res.text()).toBe(200);
    }
    const synthesized = synthesizedGateway();
    memoryLimit = synthesized.memoryLimit;
    const endpoint = {
      host: '127.0.0.1',
      httpPort: Number(new URL(mlserver.httpUrl).port),
      grpcPort: Number(mlserver.grpcAddress.split(':')[1]),
    };
    const routes = join(dir, 'routes.json');
    writeFileSync(routes, JSON.stringify({ models: { iris: [endpoint], broken: [endpoint] } }));
    const [httpPort, grpc] = [await freePort(), await freePort()];
    grpcPort = grpc;
    // The synthesized command line, with a static route table instead of a scheduler.
    const args = withoutFlags(synthesized.args, ['--scheduler', '--http-port', '--grpc-port']);
    budget = Number(args[args.indexOf('--max-inflight-bytes') + 1]);
    expect(budget).toBeGreaterThan(0);
    gateway = startProcess(
      'gateway',
      process.execPath,
      [
        'bin/mlops-runtime.js',
        ...args,
        ...['--routes', routes, '--listen', '127.0.0.1'],
        ...['--http-port', String(httpPort), '--grpc-port', String(grpc)],
      ],
      { logFile: join(dir, 'gateway.log'), cwd: repoRoot, env: synthesized.env },
    );
    url = `http://127.0.0.1:${httpPort}`;
    await waitUntilReady(gateway, 'gateway', async () => (await fetch(`${url}/v2/health/ready`)).ok, 30_000);
  }, 240_000);

  afterAll(async () => {
    await gateway?.stop(5000);
    await mlserver?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const infer = (model: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(`${url}/v2/models/${model}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });

  it('10 parallel 60 MiB bodies, declared and streamed, and the largest accepted one: memory stays under the limit', async () => {
    const row = '[5.1,3.5,1.4,0.2],';
    const body = (bytes: number, shape: string) =>
      Buffer.from(
        `{"inputs":[{"name":"predict","shape":${shape},"datatype":"FP64","data":[${row.repeat(Math.floor(bytes / row.length) - 1)}[5.1,3.5,1.4,0.2]]}]}`,
      );
    const huge = body(60 * MiB, '[1,4]');
    // Streamed: no length up front, so only the bytes that arrive can be counted.
    const streamed = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let at = 0; at < huge.length; at += MiB) controller.enqueue(huge.subarray(at, at + MiB));
          controller.close();
        },
      });
    // The budget's worth of nested numbers, the most a body may cost the gateway: parsed whole,
    // then refused for its shape, so the model server is not kept busy.
    const largest = body(budget - MiB, '[1,4]');
    const status = (p: Promise<Response>) =>
      p.then(
        async (r) => ({
          status: r.status,
          retry: r.headers.get('retry-after'),
          error: ((await r.json()) as { error: string }).error,
        }),
        (err: Error) => ({ status: 0, retry: null, error: err.message }),
      );
    const results = await Promise.all([
      status(infer('iris', largest)),
      ...Array.from({ length: 5 }, () => status(infer('iris', huge))),
      ...Array.from({ length: 5 }, () =>
        status(
          fetch(`${url}/v2/models/iris/infer`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: streamed(),
            duplex: 'half',
          } as RequestInit),
        ),
      ),
    ]);
    const summary = results.map((r) => `${r.status} ${r.error.slice(0, 60)}`);
    // Each is refused: too large (413), or over the budget while others hold it (503, retry).
    for (const r of results.slice(1)) {
      expect([413, 503], summary.join('\n')).toContain(r.status);
      if (r.status === 503) expect(r.retry).toBe('1');
    }
    expect([400, 503], summary.join('\n')).toContain(results[0].status);
    const peak = peakRss(gateway.pid);
    console.log(
      `gateway peak RSS ${(peak / MiB).toFixed(0)} MiB of a ${(memoryLimit / MiB).toFixed(0)} MiB limit`,
    );
    expect(peak, logTail(gateway.logFile, 20)).toBeLessThan(memoryLimit);
    expect((await infer('iris', IRIS)).status).toBe(200);
  }, 120_000);

  it('deep JSON is a 400 naming the depth limit', async () => {
    for (const depth of [1e4, 1e6]) {
      const data = `${'['.repeat(depth)}1${']'.repeat(depth)}`;
      const res = await infer(
        'iris',
        `{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":${data}}]}`,
      );
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(
        /nests deeper than 100 levels, the limit/,
      );
    }
  }, 60_000);

  it('malformed paths, request ids and header values are a 400 with an OIP error, never a 502', async () => {
    const port = Number(new URL(url).port);
    const cases = [
      rawPost('/v2/models/%FF%FE/infer', IRIS),
      rawPost('/v2/models/iris/versions/%C0/infer', IRIS),
      rawPost('/v2/models/iris/infer', IRIS, 'x-request-id: é-☃\r\n'),
      rawPost('/v2/models/iris/infer', IRIS, 'x-tenant: café\r\n'),
    ];
    for (const text of cases) {
      const res = await raw(port, text);
      expect(res.status, text.toString('latin1').split('\r\n')[0]).toBe(400);
      expect(JSON.parse(res.body).error).toBeTruthy();
    }
  }, 30_000);

  it("a model's traceback and file paths reach no client, over REST or gRPC", async () => {
    const res = await infer('broken', IRIS);
    const text = await res.text();
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(text).toMatch(/FileNotFoundError/);
    for (const leak of ['Traceback', 'File "', dir, 'layer0.bin', '.py']) expect(text).not.toContain(leak);
    const client = grpcClient(grpcPort);
    try {
      const err = await client
        .call('ModelInfer', {
          model_name: 'broken',
          inputs: [
            { name: 'predict', datatype: 'FP64', shape: [3, 4], contents: { fp64_contents: FLOWERS } },
          ],
        })
        .then(
          () => undefined,
          (e: { details: string }) => e,
        );
      expect(err?.details).toMatch(/No such file or directory/);
      for (const leak of ['Traceback', dir, 'layer0.bin']) expect(err?.details).not.toContain(leak);
    } finally {
      client.close();
    }
  }, 30_000);

  it('stays healthy after all of it', async () => {
    expect((await fetch(`${url}/v2/health/live`)).status).toBe(200);
    const res = await infer('iris', IRIS, { 'x-request-id': 'after-1' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { outputs: { data: number[] }[] }).outputs[0].data).toEqual([0, 1, 2]);
    expect(gateway.isRunning()).toBe(true);
  }, 30_000);
});
