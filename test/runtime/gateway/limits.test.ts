// The gateway under hostile input: bounded body bytes, deep JSON, malformed paths, ids and
// headers, and upstream errors that would leak the server's internals.
import http from 'node:http';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { type GatewayOptions, startGateway } from '../../../src/runtime/gateway/gateway.ts';
import { fakeUpstream, table } from './fixtures.ts';
import { fakeGrpcModel, grpcClient, SERVER_TRACEBACK } from './grpc-fixtures.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A valid request of about `bytes` bytes (FP32 ones). */
function requestOfSize(bytes: number): string {
  const n = Math.floor((bytes - 80) / 2);
  return JSON.stringify({ inputs: [{ name: 'x', shape: [n], datatype: 'FP32', data: Array(n).fill(1) }] });
}

async function gateway(
  answer: Parameters<typeof fakeUpstream>[1] = () => ({}),
  opts: Partial<GatewayOptions> = {},
) {
  const up = await fakeUpstream('iris', answer);
  cleanups.push(() => up.close());
  const routes = table({ models: { iris: [{ host: '127.0.0.1', httpPort: up.port, grpcPort: 1 }] } });
  const gw = await startGateway({ routes, host: '127.0.0.1', ...opts });
  cleanups.push(() => gw.close());
  const url = `http://127.0.0.1:${gw.httpPort}`;
  return { gw, up, url };
}

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/v2/models/iris/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });

/** Sends `text` as is on a new connection and returns the status line, headers and body. */
function rawRequest(
  port: number,
  text: Buffer | string,
): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(text));
    let out = '';
    socket.on('data', (d) => {
      out += d.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const at = out.indexOf('\r\n\r\n');
      const head = out.slice(0, at);
      let body = out.slice(at + 4);
      if (/transfer-encoding: chunked/i.test(head)) body = unchunk(body);
      resolve({ status: Number(head.split(' ')[1]), head, body });
    });
  });
}

function unchunk(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.slice(0, eol), 16);
    if (!size) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 4 + size);
  }
}

const rawPost = (path: string, body: string, extraHeaders = '') =>
  `POST ${path} HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n${extraHeaders}\r\n${body}`;

describe('gateway: request bodies in flight are bounded', () => {
  it('refuses a body that would go over the budget with 503, Retry-After and an OIP error; serves it once there is room', async () => {
    const { up, url } = await gateway(() => ({ delayMs: 300 }), { maxInflightBytes: 1000 });
    const first = post(url, requestOfSize(600));
    await new Promise((r) => setTimeout(r, 100));
    const second = await post(url, requestOfSize(600));
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('1');
    expect(((await second.json()) as { error: string }).error).toMatch(
      /holding its limit of 1000 bytes of request bodies in flight; retry after 1 s/,
    );
    expect((await first).status).toBe(200);
    expect((await post(url, requestOfSize(600))).status).toBe(200);
    expect(up.seen).toHaveLength(2);
  });

  it('counts a streamed body as it arrives: refused before the client has finished sending it', async () => {
    const { gw, url } = await gateway(() => ({ delayMs: 500 }), { maxInflightBytes: 1000 });
    const holder = post(url, requestOfSize(600));
    await new Promise((r) => setTimeout(r, 100));
    const req = http.request({
      host: '127.0.0.1',
      port: gw.httpPort,
      method: 'POST',
      path: '/v2/models/iris/infer',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    });
    const answered = new Promise<http.IncomingMessage>((resolve) => req.on('response', resolve));
    req.write('{"inputs":[');
    req.write(' '.repeat(600));
    // The body is not finished: only the bytes so far can have been counted.
    const res = await answered;
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    req.end(']}');
    res.resume();
    expect((await holder).status).toBe(200);
  });

  it('refuses a declared length over the per-request maximum with 413 before reading the body', async () => {
    const { gw, up } = await gateway(() => ({}), { maxBodyBytes: 1000 });
    const req = http.request({
      host: '127.0.0.1',
      port: gw.httpPort,
      method: 'POST',
      path: '/v2/models/iris/infer',
      headers: { 'content-type': 'application/json', 'content-length': '5000000' },
    });
    req.on('error', () => undefined);
    const answered = new Promise<http.IncomingMessage>((resolve) => req.on('response', resolve));
    req.flushHeaders();
    const res = await answered;
    expect(res.statusCode).toBe(413);
    req.destroy();
    expect(up.seen).toHaveLength(0);
  });

  it('a body larger than the whole budget is simply too large (413)', async () => {
    const { url } = await gateway(() => ({}), { maxInflightBytes: 500 });
    const res = await post(url, requestOfSize(600));
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toBe(
      'request body exceeds 500 bytes; send smaller batches',
    );
  });

  it('gRPC calls take from the same budget: UNAVAILABLE while REST bodies hold it', async () => {
    const model = await fakeGrpcModel('iris');
    cleanups.push(model.close);
    const up = await fakeUpstream('iris', () => ({ delayMs: 400 }));
    cleanups.push(() => up.close());
    const routes = table({
      models: { iris: [{ host: '127.0.0.1', httpPort: up.port, grpcPort: model.port }] },
    });
    const gw = await startGateway({ routes, host: '127.0.0.1', maxInflightBytes: 1000 });
    cleanups.push(() => gw.close());
    const client = grpcClient(gw.grpcPort);
    cleanups.push(client.close);
    const holder = post(`http://127.0.0.1:${gw.httpPort}`, requestOfSize(900));
    await new Promise((r) => setTimeout(r, 100));
    const request = {
      model_name: 'iris',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [40], contents: { fp32_contents: Array(40).fill(1) } }],
    };
    await expect(client.call('ModelInfer', request)).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: expect.stringContaining('holding its limit of 1000 bytes'),
    });
    expect((await holder).status).toBe(200);
    await expect(client.call('ModelInfer', request)).resolves.toBeTruthy();
  });
});

describe('gateway: deep JSON', () => {
  for (const depth of [1e4, 1e5, 1e6]) {
    it(`refuses tensor data nested ${depth} deep with 400 naming the limit`, async () => {
      const { url, up } = await gateway();
      const data = `${'['.repeat(depth)}1${']'.repeat(depth)}`;
      const res = await post(url, `{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":${data}}]}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe(
        'iris: request JSON nests deeper than 100 levels, the limit; tensor data nests once per dimension, or send it flat with its shape',
      );
      expect(up.seen).toHaveLength(0);
    });
  }

  it('refuses deep parameters too, which would otherwise reach the model server', async () => {
    const { url, up } = await gateway();
    const deep = `${'{"a":'.repeat(1e5)}1${'}'.repeat(1e5)}`;
    const res = await post(
      url,
      `{"parameters":{"x":${deep}},"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}]}`,
    );
    expect(res.status).toBe(400);
    expect(up.seen).toHaveLength(0);
  });

  it('an upstream answer nested too deep is a clear 502, not a stack overflow', async () => {
    // As deep as the fake upstream can still serialise: past the limit all the same.
    const deep = JSON.parse(`${'['.repeat(2000)}${']'.repeat(2000)}`);
    const { url } = await gateway(() => ({ body: { model_name: 'iris', outputs: deep } }));
    // Binary outputs make the gateway decode the answer to re-encode it.
    const request = JSON.parse(requestOfSize(200));
    const res = await post(url, JSON.stringify({ ...request, parameters: { binary_data_output: true } }));
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: string }).error).toBe(
      'model "iris": the model server answered JSON nested deeper than 100 levels',
    );
  });

  it('an upstream error detail nested too deep still gives an error naming the model', async () => {
    const deep = JSON.parse(`${'['.repeat(2000)}${']'.repeat(2000)}`);
    const { url } = await gateway(() => ({ status: 422, body: { detail: deep } }));
    const res = await post(url, requestOfSize(200));
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: string }).error).toBe(
      'model "iris": the model server answered 422',
    );
  });
});

describe('gateway: malformed paths, ids and headers are the caller’s error (400)', () => {
  for (const path of [
    '/v2/models/%FF%FE/infer',
    '/v2/models/iris/versions/%E0%A4%A/infer',
    '/v2/pipelines/%C0/infer',
  ]) {
    it(`${path}`, async () => {
      const { gw, up } = await gateway();
      const res = await rawRequest(gw.httpPort, rawPost(path, requestOfSize(100)));
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).error).toMatch(
        /is not valid percent-encoded UTF-8; percent-encode each byte/,
      );
      expect(up.seen).toHaveLength(0);
    });
  }

  it('a request id that is not printable ASCII, or too long', async () => {
    const { gw, up } = await gateway();
    for (const id of ['é☃-id', 'with space', 'x'.repeat(129)]) {
      const text = Buffer.from(
        rawPost('/v2/models/iris/infer', requestOfSize(100), `x-request-id: ${id}\r\n`),
      );
      const res = await rawRequest(gw.httpPort, text);
      expect(res.status, id).toBe(400);
      expect(JSON.parse(res.body).error).toMatch(/^x-request-id must be 1 to 128 printable ASCII characters/);
      // The answer carries an id of its own, not the bad one.
      expect(res.head).toMatch(/x-request-id: [0-9a-f-]{36}\r?\n?/);
    }
    expect(up.seen).toHaveLength(0);
  });

  it('a header value with raw UTF-8 names the header', async () => {
    const { gw, up } = await gateway();
    const text = Buffer.from(rawPost('/v2/models/iris/infer', requestOfSize(100), 'x-tenant: café\r\n'));
    const res = await rawRequest(gw.httpPort, text);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error).toBe(
      'header x-tenant holds characters outside visible ASCII; percent-encode or base64 the value',
    );
    expect(up.seen).toHaveLength(0);
  });

  it("a request Node's parser refuses still gets an OIP error body", async () => {
    const { gw } = await gateway();
    const res = await rawRequest(gw.httpPort, 'POST /v2/models/iris/infer HTTP/1.1\r\nbad header\r\n\r\n');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.trim()).error).toMatch(/^malformed HTTP request/);
  });
});

describe('gateway: gRPC request ids are checked too', () => {
  it('a request id with a space is INVALID_ARGUMENT, never forwarded', async () => {
    const model = await fakeGrpcModel('iris');
    cleanups.push(model.close);
    const routes = table({ models: { iris: [{ host: '127.0.0.1', httpPort: 1, grpcPort: model.port }] } });
    const gw = await startGateway({ routes, host: '127.0.0.1' });
    cleanups.push(() => gw.close());
    const client = grpcClient(gw.grpcPort);
    cleanups.push(client.close);
    const request = {
      model_name: 'iris',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }],
    };
    await expect(client.call('ModelInfer', request, { 'x-request-id': 'with space' })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringMatching(/^x-request-id must be 1 to 128 printable ASCII characters/),
    });
    expect(model.seen).toHaveLength(0);
  });
});

describe('gateway: upstream errors never relay tracebacks or server paths', () => {
  it('REST: an OIP error carrying a traceback keeps only the exception, without paths', async () => {
    const { url } = await gateway(() => ({ status: 500, body: { error: SERVER_TRACEBACK } }));
    const res = await post(url, requestOfSize(200));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'ValueError: cannot read <path>' });
  });

  it('gRPC: the status message loses the traceback and paths', async () => {
    const model = await fakeGrpcModel('iris');
    cleanups.push(model.close);
    const routes = table({ models: { iris: [{ host: '127.0.0.1', httpPort: 1, grpcPort: model.port }] } });
    const gw = await startGateway({ routes, host: '127.0.0.1' });
    cleanups.push(() => gw.close());
    const client = grpcClient(gw.grpcPort);
    cleanups.push(client.close);
    const request = {
      model_name: 'iris',
      id: 'traceback',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }],
    };
    await expect(client.call('ModelInfer', request)).rejects.toMatchObject({
      code: grpc.status.INTERNAL,
      details: 'ValueError: cannot read <path>',
    });
  });
});
