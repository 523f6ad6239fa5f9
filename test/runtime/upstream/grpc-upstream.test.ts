import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Endpoint } from '../../../src/runtime/protocol/control.ts';
import { ConnectFailure, LeastOutstanding } from '../../../src/runtime/upstream/balancer.ts';
import { GrpcUpstream, grpcEndpointKey } from '../../../src/runtime/upstream/grpc-upstream.ts';
import { HEADER_REPLICA_UNAVAILABLE } from '../../../src/spec/headers.ts';
import { closedPort } from '../gateway/fixtures.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const endpoint = (port: number): Endpoint => ({
  serverName: `s${port}`,
  replicaIdx: 0,
  host: '127.0.0.1',
  httpPort: port,
  grpcPort: port,
});

/** An HTTP/2 server echoing the request body and its `x-echo` header; counts sessions. */
async function echoServer() {
  const server = http2.createServer();
  let sessions = 0;
  server.on('session', () => sessions++);
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'x-echo': String(headers['x-echo']) },
        { waitForTrailers: true },
      );
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.address() as AddressInfo).port, sessions: () => sessions };
}

/** An agent whose inference server is down: answers UNAVAILABLE, marked as its replica's or not. */
async function downAgent(marked: boolean) {
  const server = http2.createServer();
  let calls = 0;
  server.on('stream', (stream) => {
    calls++;
    stream.resume();
    stream.respond(
      {
        ':status': 200,
        'content-type': 'application/grpc',
        'grpc-status': '14',
        'grpc-message': 'down',
        ...(marked ? { [HEADER_REPLICA_UNAVAILABLE]: '1' } : {}),
      },
      { endStream: true },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.address() as AddressInfo).port, calls: () => calls };
}

function upstream() {
  const u = new GrpcUpstream(new LeastOutstanding<Endpoint>(grpcEndpointKey));
  cleanups.push(() => u.close());
  return u;
}

describe('GrpcUpstream', () => {
  it('sends calls made while connecting over one session, leaving the caller headers untouched', async () => {
    const server = await echoServer();
    const u = upstream();
    const headers = { 'x-echo': 'hi' };
    const answers = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        u.call([endpoint(server.port)], '/svc/Method', headers, Buffer.from(`body-${i}`)),
      ),
    );
    expect(answers.map((a) => a.body.toString())).toEqual([0, 1, 2, 3, 4].map((i) => `body-${i}`));
    expect(answers[0].headers['x-echo']).toBe('hi');
    expect(answers[0].trailers['grpc-status']).toBe('0');
    expect(server.sessions()).toBe(1);
    expect(headers).toEqual({ 'x-echo': 'hi' });
  });

  it('fails with the replicas it tried when none accepts a connection', async () => {
    const dead = await closedPort();
    const u = upstream();
    const err = await u.call([endpoint(dead)], '/svc/Method', {}, Buffer.alloc(0)).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectFailure);
    expect((err as ConnectFailure).attempts).toEqual(Array(3).fill(`127.0.0.1:${dead}`));
  });

  it('moves past a replica whose agent reports its inference server down, and passes other UNAVAILABLEs on', async () => {
    const server = await echoServer();
    const down = await downAgent(true);
    const plain = await downAgent(false);
    const u = upstream();
    for (let i = 0; i < 4; i++) {
      const res = await u.call(
        [endpoint(down.port), endpoint(server.port)],
        '/svc/Method',
        {},
        Buffer.from(`c${i}`),
      );
      expect(res.body.toString()).toBe(`c${i}`);
    }
    expect(down.calls()).toBeGreaterThan(0);
    await expect(u.call([endpoint(down.port)], '/svc/Method', {}, Buffer.from('x'))).rejects.toBeInstanceOf(
      ConnectFailure,
    );
    // An UNAVAILABLE the model itself gave may have run the call: it goes back to the caller.
    const res = await u.call(
      [endpoint(plain.port), endpoint(server.port)],
      '/svc/Method',
      {},
      Buffer.from('x'),
    );
    expect(res.headers['grpc-status']).toBe('14');
    expect(plain.calls()).toBe(1);
  });

  it('reports each forwarded call once, moving past a refused replica', async () => {
    const server = await echoServer();
    const dead = await closedPort();
    const u = upstream();
    const results = await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          new Promise<unknown[]>((resolve) => {
            const seen: unknown[] = [];
            u.forward(
              [endpoint(dead), endpoint(server.port)],
              '/svc/Method',
              {},
              Buffer.from('x'),
              (err, res) => {
                seen.push(err ?? res?.body.toString());
                setTimeout(() => resolve(seen), 20);
              },
            );
          }),
      ),
    );
    expect(results).toEqual(Array(4).fill(['x']));
  });

  it('answers an empty body when the call ends without data', async () => {
    const server = http2.createServer();
    server.on('stream', (stream) => {
      stream.resume();
      stream.on('end', () =>
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5' },
          { endStream: true },
        ),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const res = await upstream().call(
      [endpoint((server.address() as AddressInfo).port)],
      '/svc/Method',
      {},
      Buffer.from('x'),
    );
    expect(res.body.length).toBe(0);
    expect(res.headers['grpc-status']).toBe('5');
    expect(res.trailers).toEqual({});
  });
});

describe('LeastOutstanding', () => {
  it('picks the endpoint with the fewest calls in flight, skipping excluded keys', () => {
    const b = new LeastOutstanding<Endpoint>(grpcEndpointKey);
    const [e1, e2, e3] = [1, 2, 3].map(endpoint);
    b.acquireKey(b.keyOf(e1));
    b.acquireKey(b.keyOf(e2));
    expect(b.pick([e1, e2, e3])).toBe(e3);
    b.acquireKey(b.keyOf(e3));
    b.acquireKey(b.keyOf(e3));
    expect([e1, e2]).toContain(b.pick([e1, e2, e3]));
    expect(b.pick([e1, e2, e3], [b.keyOf(e1)])).toBe(e2);
    b.releaseKey(b.keyOf(e3));
    b.releaseKey(b.keyOf(e3));
    expect(b.outstanding(e3)).toBe(0);
    expect(b.pick([e1], [b.keyOf(e1)])).toBeUndefined();
  });
});
