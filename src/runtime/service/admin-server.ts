// The admin endpoints of a component (liveness, readiness, Prometheus metrics, and whatever else
// the component adds, e.g. the agent's /terminate or the scheduler's /status).
import http from 'node:http';
import type { Registry } from 'prom-client';
import { close, listen } from './process.ts';

/** An answer: an object is sent as JSON, a string as is (with `type` as its content type, if set). */
export interface AdminReply {
  status: number;
  body?: string | object;
  type?: string;
  /** More response headers (e.g. `allow` with a 405). */
  headers?: Record<string, string>;
}

export type AdminRoute = (req: http.IncomingMessage) => AdminReply | Promise<AdminReply>;

export interface AdminRoutes {
  live: AdminRoute;
  ready: AdminRoute;
  metrics: Registry;
  /** More paths, e.g. `{ '/status': … }`. */
  routes?: Record<string, AdminRoute>;
  /** The answer to any other path (default: 404, no body). */
  notFound?: (path: string) => AdminReply;
}

export interface AdminServerOptions extends AdminRoutes {
  /** 0 = any free port. */
  port: number;
  host?: string;
}

export interface AdminServer {
  port: number;
  close(): Promise<void>;
}

/** The request handler serving `/live`, `/ready`, `/metrics` and the component's own routes. */
export function adminHandler(opts: AdminRoutes): http.RequestListener {
  const routes: Record<string, AdminRoute> = {
    '/live': opts.live,
    '/ready': opts.ready,
    '/metrics': async () => ({
      status: 200,
      body: await opts.metrics.metrics(),
      type: opts.metrics.contentType,
    }),
    ...opts.routes,
  };
  const notFound = opts.notFound ?? (() => ({ status: 404 }));
  return (req, res) => {
    const path = req.url?.split('?')[0] ?? '/';
    const route = routes[path];
    Promise.resolve()
      .then(() => (route ? route(req) : notFound(path)))
      .then(
        (reply) => send(res, reply),
        (err) => send(res, { status: 500, body: { error: (err as Error).message } }),
      );
  };
}

function send(res: http.ServerResponse, reply: AdminReply): void {
  if (reply.body === undefined) return void res.writeHead(reply.status, reply.headers).end();
  const json = typeof reply.body !== 'string';
  const type = json ? 'application/json' : reply.type;
  res.writeHead(reply.status, { ...reply.headers, ...(type ? { 'content-type': type } : {}) });
  res.end(json ? JSON.stringify(reply.body) : reply.body);
}

/** Starts the admin server. */
export async function startAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  const server = http.createServer(adminHandler(opts));
  const port = await listen(server, opts.port, opts.host);
  return { port, close: () => close(server) };
}
