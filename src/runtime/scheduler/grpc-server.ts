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
import type { ControlGuard } from './control-guard.ts';
import type { Scheduler } from './scheduler.ts';

/** Serves AgentService and RouteService for `scheduler` on one port. */
export async function startControlServer(opts: {
  scheduler: Scheduler;
  port: number;
  host?: string;
  log: Logger;
  onScalingTrigger?: (msg: ModelScalingTriggerMessage) => void;
  /** Authenticates and authorizes every call; without it the port is open (tests, trusted hosts). */
  guard?: ControlGuard;
}): Promise<{ port: number; server: grpc.Server; stop(): Promise<void> }> {
  const { scheduler, log, guard } = opts;
  type Caller = { metadata: grpc.Metadata; getPeer(): string };
  const asAgent = (call: Caller, server: string, idx: number, registering = false) =>
    guard ? guard.agent(call, server, idx, registering) : Promise.resolve(undefined);
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
      void asAgent(call, req.serverName, req.replicaIdx, true).then(
        // An agent back before the desired state is listed would be told to reload what it holds.
        (refusal) =>
          refusal
            ? call.emit('error', refusal)
            : void scheduler.whenSynced().then(() => subscribe(call, req)),
        (err: Error) =>
          call.destroy({ code: grpc.status.INTERNAL, details: err.message } as grpc.ServiceError),
      );
    },
    AgentEvent(call: grpc.ServerUnaryCall<ModelEvent, object>, cb: grpc.sendUnaryData<object>) {
      const ev = call.request;
      log.debug({ event: ev }, 'agent event');
      void asAgent(call, ev.serverName, ev.replicaIdx).then((refusal) => {
        if (refusal) return cb(refusal);
        scheduler.agentEvent(ev);
        cb(null, {});
      }, cb);
    },
    ModelScalingTrigger(
      call: grpc.ServerReadableStream<ModelScalingTriggerMessage, object>,
      cb: grpc.sendUnaryData<object>,
    ) {
      call.on('data', (msg: ModelScalingTriggerMessage) => {
        void asAgent(call, msg.serverName, msg.replicaIdx).then(
          (refusal) => refusal || opts.onScalingTrigger?.(msg),
          () => undefined,
        );
      });
      call.on('end', () => cb(null, {}));
      call.on('error', () => undefined);
    },
    AgentDrain(call: grpc.ServerUnaryCall<AgentDrainRequest, object>, cb: grpc.sendUnaryData<object>) {
      const { serverName, replicaIdx } = call.request;
      void asAgent(call, serverName, replicaIdx).then((refusal) => {
        if (refusal) return cb(refusal);
        scheduler.drain(serverName, replicaIdx).then(
          (success) => cb(null, { success }),
          (err: Error) => cb({ code: grpc.status.INTERNAL, details: err.message } as grpc.ServiceError),
        );
      }, cb);
    },
  });
  function subscribe(
    call: grpc.ServerWritableStream<AgentSubscribeRequest, ModelOperation>,
    req: AgentSubscribeRequest,
  ): void {
    if (call.cancelled) return;
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
  }
  server.addService(pkg.RouteService.service, {
    SubscribeRoutes(call: grpc.ServerWritableStream<{ subscriberName: string }, RouteUpdate>) {
      if (!guard) return serveRoutes(call);
      void guard.routes(call).then(
        (refusal) => (refusal ? call.emit('error', refusal) : serveRoutes(call)),
        (err: Error) =>
          call.destroy({ code: grpc.status.INTERNAL, details: err.message } as grpc.ServiceError),
      );
    },
  });
  function serveRoutes(call: grpc.ServerWritableStream<{ subscriberName: string }, RouteUpdate>): void {
    if (call.cancelled) return;
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
  }
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
