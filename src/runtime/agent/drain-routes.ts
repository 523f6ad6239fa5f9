// The agent's drain endpoints. Draining moves every model of the replica elsewhere, so only the
// pod itself may start it: `/terminate` takes POST only, from loopback (the preStop hook runs
// inside the pod). Under `mlops dev` loopback is the whole machine, so there the run's control
// secret is required instead. `/drained` starts nothing: the
// other containers' preStop hooks wait on it, so the inference server answers until the
// models have moved.
import type http from 'node:http';
import type { AdminReply, AdminRoute } from '../service/admin-server.ts';
import { holdsSecret, isLoopback } from '../service/identity.ts';

export interface DrainRoutesOptions {
  /** Starts the drain; resolves to whether every model found another replica. */
  drain: () => Promise<boolean>;
  /** The run's control secret (`mlops dev`): then required, and loopback alone is not enough. */
  secret?: string;
  /** How long `/drained` waits for a drain to begin (the hooks of a pod run side by side). */
  waitForStartMs?: number;
}

export function drainRoutes(opts: DrainRoutesOptions): Record<string, AdminRoute> {
  let draining: Promise<boolean> | undefined;
  let started: () => void = () => {};
  const start = new Promise<void>((resolve) => {
    started = resolve;
  });
  const report = (p: Promise<boolean>): Promise<AdminReply> =>
    p.then(
      (drained) => ({ status: 200, body: { drained } }),
      () => ({ status: 500, body: { drained: false } }),
    );
  return {
    '/terminate': (req) => {
      if (req.method !== 'POST') return methodNotAllowed('POST');
      if (!mayDrain(req, opts.secret))
        return { status: 403, body: { error: 'drain is started from inside the pod only' } };
      if (!draining) {
        draining = opts.drain();
        started();
      }
      return report(draining);
    },
    '/drained': async (req) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed('GET');
      const waited = new Promise<void>((resolve) =>
        setTimeout(resolve, opts.waitForStartMs ?? 10_000).unref(),
      );
      await Promise.race([start, waited]);
      return draining ? report(draining) : { status: 200, body: { drained: false, draining: false } };
    },
  };
}

function mayDrain(req: http.IncomingMessage, secret: string | undefined): boolean {
  return secret ? holdsSecret(req.headers.authorization, secret) : isLoopback(req.socket.remoteAddress);
}

function methodNotAllowed(allow: string): AdminReply {
  return { status: 405, headers: { allow }, body: { error: `use ${allow}` } };
}
