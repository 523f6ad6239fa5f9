import type http from 'node:http';
import type http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import type { Endpoint } from '../protocol/control.ts';
import { LeastOutstanding } from '../upstream/balancer.ts';
import { GrpcUpstream, grpcEndpointKey } from '../upstream/grpc-upstream.ts';
import { endpointKey, HttpUpstream } from '../upstream/http-upstream.ts';
import { BodyBudget } from './body-budget.ts';
import { createGrpcGateway } from './grpc-server.ts';
import { GatewayMetrics } from './metrics.ts';
import { Mirror } from './mirror.ts';
import { createRestGateway } from './rest-server.ts';
import { Router, type RouteSource } from './router.ts';

export interface GatewayOptions {
  routes: RouteSource;
  pipelineGateways?: () => readonly Endpoint[];
  httpPort?: number;
  grpcPort?: number;
  host?: string;
  logger?: Logger;
  /** Ready once the route table has been received. */
  ready?: () => boolean;
  /** Largest single request body (default 64 MiB; never more than the in-flight budget). */
  maxBodyBytes?: number;
  /** Request-body bytes held at once over all calls (default 25 MiB). */
  maxInflightBytes?: number;
  random?: () => number;
  /** Where requests are counted (default: a registry of its own). */
  metrics?: GatewayMetrics;
}

export interface RunningGateway {
  httpPort: number;
  grpcPort: number;
  metrics: GatewayMetrics;
  close(): Promise<void>;
}

const VERSION = '0.1.0';
const MiB = 1024 * 1024;

/** Starts the REST and gRPC ingress on the given ports (0 = any free port). */
export async function startGateway(opts: GatewayOptions): Promise<RunningGateway> {
  const logger = opts.logger ?? pino({ level: 'silent' });
  const metrics = opts.metrics ?? new GatewayMetrics();
  const router = new Router(opts.routes, opts.random);
  const pipelineGateways = opts.pipelineGateways ?? (() => []);
  const httpUpstream = new HttpUpstream(new LeastOutstanding<Endpoint>(endpointKey));
  const grpcUpstream = new GrpcUpstream(new LeastOutstanding<Endpoint>(grpcEndpointKey));
  const mirror = new Mirror(httpUpstream, pipelineGateways, metrics, logger);
  const budget = new BodyBudget(opts.maxInflightBytes ?? 25 * MiB);
  const common = {
    router,
    pipelineGateways,
    mirror,
    metrics,
    logger,
    ready: opts.ready ?? (() => true),
    // A body larger than the whole budget could never be taken: it is simply too large.
    maxBodyBytes: Math.min(opts.maxBodyBytes ?? 64 * MiB, budget.limit),
    budget,
    version: VERSION,
  };
  const rest = createRestGateway({ ...common, upstream: httpUpstream });
  const grpc = createGrpcGateway({ ...common, upstream: grpcUpstream });
  const sessions = new Set<http2.ServerHttp2Session>();
  grpc.on('session', (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  const host = opts.host ?? '0.0.0.0';
  await listen(rest, opts.httpPort ?? 0, host);
  await listen(grpc, opts.grpcPort ?? 0, host);
  return {
    httpPort: (rest.address() as AddressInfo).port,
    grpcPort: (grpc.address() as AddressInfo).port,
    metrics,
    async close() {
      httpUpstream.close();
      grpcUpstream.close();
      rest.closeAllConnections();
      for (const s of sessions) s.destroy();
      await Promise.all([close(rest), close(grpc)]);
    },
  };
}

function listen(server: http.Server | http2.Http2Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function close(server: http.Server | http2.Http2Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
