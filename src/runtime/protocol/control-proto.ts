// Loads proto/control.proto at run time (nothing is generated) with the options the TS types in
// control.ts describe.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const CONTROL_PROTO_PATH = fileURLToPath(new URL('../../../proto/control.proto', import.meta.url));

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
};

interface ControlPackage {
  AgentService: grpc.ServiceClientConstructor;
  RouteService: grpc.ServiceClientConstructor;
}

let cached: ControlPackage | undefined;

export function controlPackage(): ControlPackage {
  if (!cached) {
    const definition = protoLoader.loadSync(CONTROL_PROTO_PATH, LOADER_OPTIONS);
    const root = grpc.loadPackageDefinition(definition) as unknown as {
      mlops: { control: { v1: ControlPackage } };
    };
    cached = root.mlops.control.v1;
  }
  return cached;
}

/**
 * Channel options of every client of the scheduler. Its address may name several replicas (a
 * headless Service, or `ipv4:a:p,b:p`): only the leader listens, and the default pick-first policy
 * connects to whichever accepts. A short reconnect back-off finds a restarted scheduler or a new
 * leader well within a second (gRPC's default grows to two minutes); a refused connection to
 * an absent one costs next to nothing.
 */
export const SCHEDULER_CHANNEL_OPTIONS = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 250,
} as const;
