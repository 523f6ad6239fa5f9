import { HEADER_MODEL, HEADER_ROUTE, HEADER_TRACEPARENT } from '../../spec/headers.ts';
import type { Headers } from '../bus/bus.ts';
import { firstMessage, frameMessage } from '../oip/grpc-wire.ts';
import type { Endpoint } from '../protocol/control.ts';
import { LeastOutstanding } from '../upstream/balancer.ts';
import { GrpcUpstream, grpcEndpointKey } from '../upstream/grpc-upstream.ts';

const UNAVAILABLE = 14;

/** Calls a model with a ModelInferRequest (protobuf bytes) and returns the ModelInferResponse bytes. */
export interface ModelClient {
  infer(model: string, request: Buffer, headers: Headers): Promise<Buffer>;
  close(): void;
}

export class ModelCallError extends Error {
  /** True when the model was unreachable, so the call should be tried again rather than failed. */
  constructor(
    message: string,
    readonly retryable = false,
  ) {
    super(message);
  }
}

/** Sends inference over gRPC (as opaque frames) to the data-plane gateway or a server. */
export class GrpcModelClient implements ModelClient {
  private readonly upstream = new GrpcUpstream(new LeastOutstanding<Endpoint>(grpcEndpointKey));

  constructor(private readonly endpoints: readonly Endpoint[]) {}

  async infer(model: string, request: Buffer, headers: Headers): Promise<Buffer> {
    const out: Record<string, string> = {
      'content-type': 'application/grpc',
      te: 'trailers',
      [HEADER_MODEL]: model,
    };
    for (const [k, v] of Object.entries(headers)) {
      // The route header is a client's sticky session, not something to replay between steps.
      if ((k.startsWith('x-') && k !== HEADER_ROUTE) || k === HEADER_TRACEPARENT) out[k] = v;
    }
    let res: Awaited<ReturnType<GrpcUpstream['call']>>;
    try {
      res = await this.upstream.call(
        this.endpoints,
        '/inference.GRPCInferenceService/ModelInfer',
        out,
        frameMessage(request),
      );
    } catch (err) {
      throw new ModelCallError(`model ${model} unreachable: ${(err as Error).message}`, true);
    }
    const status = Number(res.trailers['grpc-status'] ?? res.headers['grpc-status'] ?? 2);
    if (status !== 0) {
      const message = decodeURIComponent(
        String(res.trailers['grpc-message'] ?? res.headers['grpc-message'] ?? ''),
      );
      throw new ModelCallError(
        `model ${model} failed (gRPC status ${status}): ${message}`,
        status === UNAVAILABLE,
      );
    }
    const message = firstMessage(res.body);
    if (!message) throw new ModelCallError(`model ${model} returned a malformed gRPC response`);
    return Buffer.from(message);
  }

  close(): void {
    this.upstream.close();
  }
}
