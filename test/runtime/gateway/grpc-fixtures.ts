import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const PROTO = fileURLToPath(new URL('../../../proto/inference.proto', import.meta.url));

// biome-ignore lint/suspicious/noExplicitAny: dynamically loaded gRPC service
type AnyService = any;

export function inferencePackage(): { GRPCInferenceService: AnyService } {
  const def = protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, defaults: true, oneofs: true });
  return (grpc.loadPackageDefinition(def) as AnyService).inference;
}

/** What a Python model server may put in an error: a stack trace naming its files. */
export const SERVER_TRACEBACK =
  'Traceback (most recent call last):\n  File "/srv/runtime/model.py", line 9, in predict\nValueError: cannot read /srv/models/iris/model.joblib';

/** A grpc-js OIP server answering ModelInfer with its own name; records the requests. */
export async function fakeGrpcModel(name: string) {
  const pkg = inferencePackage();
  const seen: { request: AnyService; metadata: grpc.Metadata }[] = [];
  const server = new grpc.Server();
  server.addService(pkg.GRPCInferenceService.service, {
    ModelInfer(call: AnyService, cb: grpc.sendUnaryData<unknown>) {
      seen.push({ request: call.request, metadata: call.metadata });
      if (call.request.id === 'fail') {
        cb({ code: grpc.status.INVALID_ARGUMENT, details: `${name} refused` });
        return;
      }
      if (call.request.id === 'traceback') {
        cb({ code: grpc.status.INTERNAL, details: SERVER_TRACEBACK });
        return;
      }
      cb(null, {
        model_name: name,
        id: call.request.id,
        outputs: [{ name: 'out', datatype: 'INT64', shape: [1], contents: { int64_contents: [7] } }],
      });
    },
    ModelReady(call: AnyService, cb: grpc.sendUnaryData<unknown>) {
      cb(null, { ready: call.request.name === name });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { port, seen, close: () => new Promise<void>((r) => server.tryShutdown(() => r())) };
}

export function grpcClient(port: number) {
  const pkg = inferencePackage();
  const client = new pkg.GRPCInferenceService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = <T>(
    method: string,
    req: unknown,
    md: Record<string, string> = {},
  ): Promise<{ res: T; headers: grpc.Metadata }> =>
    new Promise((resolve, reject) => {
      const metadata = new grpc.Metadata();
      for (const [k, v] of Object.entries(md)) metadata.set(k, v);
      let headers = new grpc.Metadata();
      const c = client[method](req, metadata, (err: grpc.ServiceError | null, res: T) =>
        err ? reject(err) : resolve({ res, headers }),
      );
      c.on('metadata', (m: grpc.Metadata) => {
        headers = m;
      });
    });
  return { call, close: () => client.close() };
}
