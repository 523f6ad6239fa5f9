import type * as grpc from '@grpc/grpc-js';
import { credentials } from '@grpc/grpc-js';
import type { RouteUpdate } from './control.ts';
import { controlPackage, SCHEDULER_CHANNEL_OPTIONS } from './control-proto.ts';
import { ReconnectBackoff } from './reconnect.ts';

export interface RouteSubscription {
  close(): void;
}

/**
 * Subscribes to the scheduler's route stream at `address` (`host:port`, or several replicas'
 * addresses: the one leading is the one that accepts) and reconnects quickly (see
 * `ReconnectBackoff`) when it drops. `clientOptions` add the caller's credential. Each
 * (re)connection starts with a full snapshot, so `onUpdate` can simply apply every message to a
 * `RouteTable`.
 */
export function subscribeRoutes(
  address: string,
  subscriberName: string,
  onUpdate: (update: RouteUpdate) => void,
  onError: (err: Error) => void = () => {},
  clientOptions: grpc.ClientOptions = {},
): RouteSubscription {
  const client = new (controlPackage().RouteService)(address, credentials.createInsecure(), {
    ...SCHEDULER_CHANNEL_OPTIONS,
    ...clientOptions,
  });
  let closed = false;
  const backoff = new ReconnectBackoff();
  let stream: grpc.ClientReadableStream<RouteUpdate> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const connect = () => {
    if (closed) return;
    stream = client.SubscribeRoutes({ subscriberName }) as grpc.ClientReadableStream<RouteUpdate>;
    stream.on('data', (u: RouteUpdate) => {
      backoff.reset();
      onUpdate(u);
    });
    stream.on('error', (err: Error) => {
      if (!closed) onError(err);
    });
    stream.on('close', () => {
      if (closed) return;
      timer = setTimeout(connect, backoff.next());
    });
  };
  connect();
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      stream?.cancel();
      client.close();
    },
  };
}
