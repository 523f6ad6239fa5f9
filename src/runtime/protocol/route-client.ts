import type * as grpc from '@grpc/grpc-js';
import { credentials } from '@grpc/grpc-js';
import type { RouteUpdate } from './control.ts';
import { controlPackage, SCHEDULER_CHANNEL_OPTIONS } from './control-proto.ts';

export interface RouteSubscription {
  close(): void;
}

/**
 * Subscribes to the scheduler's route stream at `address` (`host:port`, or several replicas'
 * addresses: the one leading is the one that accepts) and reconnects with back-off (0.2 s
 * doubling to 1 s, so a new leader is found within about a second) when it drops. Each
 * (re)connection starts with a full snapshot, so `onUpdate` can simply apply every message to a
 * `RouteTable`.
 */
export function subscribeRoutes(
  address: string,
  subscriberName: string,
  onUpdate: (update: RouteUpdate) => void,
  onError: (err: Error) => void = () => {},
): RouteSubscription {
  const client = new (controlPackage().RouteService)(
    address,
    credentials.createInsecure(),
    SCHEDULER_CHANNEL_OPTIONS,
  );
  let closed = false;
  let delay = 200;
  let stream: grpc.ClientReadableStream<RouteUpdate> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const connect = () => {
    if (closed) return;
    stream = client.SubscribeRoutes({ subscriberName }) as grpc.ClientReadableStream<RouteUpdate>;
    stream.on('data', (u: RouteUpdate) => {
      delay = 200;
      onUpdate(u);
    });
    stream.on('error', (err: Error) => {
      if (!closed) onError(err);
    });
    stream.on('close', () => {
      if (closed) return;
      timer = setTimeout(connect, delay);
      delay = Math.min(delay * 2, 1000);
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
