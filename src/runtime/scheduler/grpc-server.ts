import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type {
  AgentDrainRequest,
  AgentSubscribeRequest,
  ModelEvent,
  ModelOperation,
  ModelScalingTriggerMessage,
  RouteUpdate,
} from '../protocol/control.ts';
import { controlPackage } from '../protocol/control-proto.ts';
import { traceOperation } from '../telemetry/tracing.ts';
import type { Scheduler } from './scheduler.ts';

/** Serves AgentService and RouteService for `scheduler` on one port. */
export async function startControlServer(opts: {
  scheduler: Scheduler;
  port: number;
  host?: string;
  log: Logger;
  onScalingTrigger?: (msg: ModelScalingTriggerMessage) => void;
}): Promise<{ port: number; server: grpc.Server; stop(): Promise<void> }> {
  const { scheduler, log } = opts;
  const pkg = controlPackage();
  // Keepalive pings notice an agent whose pod vanished without closing its connection.
  const server = new grpc.Server({
    'grpc.keepalive_time_ms': 5000,
    'grpc.keepalive_timeout_ms': 5000,
    'grpc.keepalive_permit_without_calls': 1,
  });
  server.addService(pkg.AgentService.service, {
    Subscribe(call: grpc.ServerWritableStream<AgentSubscribeRequest, ModelOperation>) {
      const req = call.request;
      if (!req.serverName || !req.replicaConfig) {
        call.destroy({
          code: grpc.status.INVALID_ARGUMENT,
          details: 'serverName and replicaConfig are required',
        } as grpc.ServiceError);
        return;
      }
      const link = {
        send: (op: ModelOperation) => call.write(traceOperation(op, req.serverName, req.replicaIdx)),
      };
      let gone = false;
      const disconnect = () => {
        if (gone) return;
        gone = true;
        scheduler.agentDisconnected(req.serverName, req.replicaIdx, link);
      };
      call.on('cancelled', disconnect);
      call.on('close', disconnect);
      call.on('error', disconnect);
      // Headers right away, so the agent knows it is registered before any operation arrives.
      call.sendMetadata(new grpc.Metadata());
      scheduler.agentConnected(req, link);
    },
    AgentEvent(call: grpc.ServerUnaryCall<ModelEvent, object>, cb: grpc.sendUnaryData<object>) {
      scheduler.agentEvent(call.request);
      cb(null, {});
    },
    ModelScalingTrigger(
      call: grpc.ServerReadableStream<ModelScalingTriggerMessage, object>,
      cb: grpc.sendUnaryData<object>,
    ) {
      call.on('data', (msg: ModelScalingTriggerMessage) => opts.onScalingTrigger?.(msg));
      call.on('end', () => cb(null, {}));
      call.on('error', () => undefined);
    },
    AgentDrain(call: grpc.ServerUnaryCall<AgentDrainRequest, object>, cb: grpc.sendUnaryData<object>) {
      scheduler.drain(call.request.serverName, call.request.replicaIdx).then(
        (success) => cb(null, { success }),
        (err: Error) => cb({ code: grpc.status.INTERNAL, details: err.message } as grpc.ServiceError),
      );
    },
  });
  server.addService(pkg.RouteService.service, {
    SubscribeRoutes(call: grpc.ServerWritableStream<{ subscriberName: string }, RouteUpdate>) {
      log.info({ subscriber: call.request.subscriberName }, 'route subscriber connected');
      let off: (() => void) | undefined;
      let gone = false;
      const done = () => {
        gone = true;
        off?.();
      };
      call.on('cancelled', done);
      call.on('close', done);
      call.on('error', done);
      // Until then the table is empty; a gateway keeps its last one meanwhile.
      void scheduler.whenRoutesRebuilt().then(() => {
        if (gone) return;
        call.write(scheduler.routeSnapshot());
        off = scheduler.onRoutes((u) => call.write(u));
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      `${opts.host ?? '0.0.0.0'}:${opts.port}`,
      grpc.ServerCredentials.createInsecure(),
      (err, p) => (err ? reject(err) : resolve(p)),
    ),
  );
  return {
    port,
    server,
    stop: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000).unref();
      }),
  };
}
