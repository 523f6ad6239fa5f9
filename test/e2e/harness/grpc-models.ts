import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import {
  decodeRequest,
  encodeResponse,
  firstMessage,
  frameMessage,
  jsonResponseToMessage,
  messageToJsonRequest,
} from '../../../src/runtime/oip/index.ts';
import type { JsonTensor } from '../../../src/runtime/oip/json-types.ts';
import { HEADER_MODEL } from '../../../src/spec/headers.ts';

export interface GrpcModels {
  /** host:port of the OIP gRPC endpoint (what `mlops-runtime dataflow --inference` takes). */
  address: string;
  /** Calls served per model. */
  calls: Map<string, number>;
  close(): Promise<void>;
}

/**
 * An OIP gRPC `ModelInfer` endpoint on 127.0.0.1 answering for models given as functions of their
 * input tensors, routed by the `seldon-model` header as the data-plane gateway is. For suites
 * about the dataflow and Kafka, where what the models compute does not matter (the model serving
 * path itself is covered against MLServer).
 */
export async function startGrpcModels(
  models: Record<string, (inputs: JsonTensor[]) => JsonTensor[]>,
): Promise<GrpcModels> {
  const calls = new Map<string, number>();
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const name = String(headers[HEADER_MODEL] ?? '');
      const fn = models[name];
      const message = firstMessage(Buffer.concat(chunks));
      if (!fn || !message) {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5' });
        stream.end();
        return;
      }
      calls.set(name, (calls.get(name) ?? 0) + 1);
      const req = messageToJsonRequest(decodeRequest(message));
      const res = encodeResponse(
        jsonResponseToMessage({ model_name: name, id: req.id, outputs: fn(req.inputs) }),
      );
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(frameMessage(res));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    async close() {
      for (const s of sessions) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
