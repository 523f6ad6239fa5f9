import type http from 'node:http';
import type { Logger } from 'pino';
import type { Endpoint } from '../protocol/control.ts';
import type { HttpUpstream } from '../upstream/http-upstream.ts';
import { rewritePath, setTargetHeaders } from './forwarding.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { Target } from './router.ts';

/**
 * Sends copies of requests to an experiment's mirror and throws the answers away. Copies run
 * detached from the caller's request, are capped in number so a slow mirror cannot eat the
 * gateway's memory, and their failures are only counted.
 */
export class Mirror {
  private inflight = 0;

  constructor(
    private readonly upstream: HttpUpstream,
    private readonly pipelineGateways: () => readonly Endpoint[],
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
    private readonly maxInflight = 256,
  ) {}

  send(target: Target, method: string, url: string, headers: http.OutgoingHttpHeaders, body?: Buffer): void {
    this.run(() => {
      const endpoints = target.kind === 'model' ? target.endpoints : this.pipelineGateways();
      const path = rewritePath(url, target);
      const copy = { ...headers };
      setTargetHeaders(copy, target);
      return this.upstream.send(endpoints, method, path, copy, body);
    });
  }

  /** Runs any detached copy (used by the gRPC side with its own transport). */
  run(job: () => Promise<unknown>): void {
    if (this.inflight >= this.maxInflight) {
      this.metrics.mirrors.inc({ outcome: 'dropped' });
      return;
    }
    this.inflight++;
    setImmediate(() => {
      job()
        .then(() => this.metrics.mirrors.inc({ outcome: 'sent' }))
        .catch((err) => {
          this.metrics.mirrors.inc({ outcome: 'failed' });
          this.logger.debug({ err }, 'mirror request failed');
        })
        .finally(() => {
          this.inflight--;
        });
    });
  }
}
