import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type StaticRoutes, staticRouteUpdate } from '../../../src/runtime/gateway/static-routes.ts';
import { RouteTable } from '../../../src/runtime/protocol/route-table.ts';

/** Split tests are repeatable: the same draws for a seed on every run. */
export { seededRandom as seeded } from '../../support/seeded-random.ts';

export function table(routes: StaticRoutes): RouteTable {
  const t = new RouteTable();
  t.apply(staticRouteUpdate(routes));
  return t;
}

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** An upstream that answers OIP-like JSON naming itself, and records what it received. */
export async function fakeUpstream(
  name: string,
  answer: (r: Recorded) => { status?: number; body?: unknown; delayMs?: number } = () => ({}),
): Promise<{ port: number; seen: Recorded[]; close(): Promise<void> }> {
  const seen: Recorded[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const rec = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(rec);
      const a = answer(rec);
      const send = () =>
        res
          .writeHead(a.status ?? 200, { 'content-type': 'application/json' })
          .end(JSON.stringify(a.body ?? { model_name: name, outputs: [] }));
      if (a.delayMs) setTimeout(send, a.delayMs);
      else send();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A port nothing listens on. */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export const IRIS_REQUEST = {
  inputs: [{ name: 'predict', shape: [1, 4], datatype: 'FP32', data: [[1, 2, 3, 4]] }],
};
