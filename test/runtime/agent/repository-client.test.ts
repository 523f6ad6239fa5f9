import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RepositoryClient } from '../../../src/runtime/agent/repository-client.ts';

/** An inference server's repository API stand-in: records each call and answers as told. */
interface Call {
  method: string;
  url: string;
  body: string;
}
let calls: Call[];
let answer: (call: Call) => { status: number; body?: string; delayMs?: number };
let server: http.Server;
let base: string;

beforeEach(async () => {
  calls = [];
  answer = () => ({ status: 200 });
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const call = { method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString() };
      calls.push(call);
      const a = answer(call);
      setTimeout(() => res.writeHead(a.status).end(a.body ?? ''), a.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('RepositoryClient', () => {
  it('loads and unloads with an empty POST to the repository endpoints, escaping the name', async () => {
    const client = new RepositoryClient(base);
    await client.load('iris_1');
    await client.unload('iris_1');
    await client.load('a b/c');
    expect(calls).toEqual([
      { method: 'POST', url: '/v2/repository/models/iris_1/load', body: '' },
      { method: 'POST', url: '/v2/repository/models/iris_1/unload', body: '' },
      { method: 'POST', url: '/v2/repository/models/a%20b%2Fc/load', body: '' },
    ]);
  });

  it('reports the server error field of a refusal, with the status, and does not retry', async () => {
    answer = () => ({ status: 400, body: JSON.stringify({ error: 'Model iris_1 not found' }) });
    const client = new RepositoryClient(base);
    await expect(client.load('iris_1')).rejects.toThrow(
      'inference server refused load (HTTP 400): Model iris_1 not found',
    );
    expect(calls).toHaveLength(1);
  });

  it('keeps a refusal body that is not JSON, or JSON without an error field, as it is', async () => {
    const client = new RepositoryClient(base);
    answer = () => ({ status: 500, body: 'upstream exploded' });
    await expect(client.unload('m')).rejects.toThrow(
      'inference server refused unload (HTTP 500): upstream exploded',
    );
    answer = () => ({ status: 503, body: '{"detail":"busy"}' });
    await expect(client.load('m')).rejects.toThrow(
      'inference server refused load (HTTP 503): {"detail":"busy"}',
    );
  });

  it('names the operation when the server cannot be reached or is too slow', async () => {
    const unreachable = new RepositoryClient('http://127.0.0.1:1');
    await expect(unreachable.load('m')).rejects.toThrow(/^inference server load request failed: /);
    answer = () => ({ status: 200, delayMs: 500 });
    const impatient = new RepositoryClient(base, 50);
    await expect(impatient.unload('m')).rejects.toThrow(/^inference server unload request failed: .*abort/i);
  });

  it('is ready only when the health endpoint answers 2xx', async () => {
    const client = new RepositoryClient(base);
    expect(await client.ready()).toBe(true);
    expect(calls.at(-1)).toEqual({ method: 'GET', url: '/v2/health/ready', body: '' });
    answer = () => ({ status: 503 });
    expect(await client.ready()).toBe(false);
    expect(await new RepositoryClient('http://127.0.0.1:1').ready()).toBe(false);
  });
});
