import type { Logger } from 'pino';
import type { Endpoint } from '../protocol/control.ts';
import type { BodyBudget } from './body-budget.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { Mirror } from './mirror.ts';
import type { Router } from './router.ts';

/** What the gateway's REST and gRPC servers both need; `U` is the client they forward with. */
export interface ProtocolServerOptions<U> {
  router: Router;
  upstream: U;
  /** Pipeline gateway replicas that serve `/v2/pipelines/...`. */
  pipelineGateways: () => readonly Endpoint[];
  mirror: Mirror;
  metrics: GatewayMetrics;
  logger: Logger;
  ready: () => boolean;
  /** Largest single request body (413 beyond). */
  maxBodyBytes: number;
  /** Request-body bytes held at once over all calls (503 beyond). */
  budget: BodyBudget;
  version: string;
}
