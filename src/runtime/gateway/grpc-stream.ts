import type http2 from 'node:http2';
import { HEADER_ROUTE } from '../../spec/headers.ts';
import { GrpcCode, OipError, scrubServerDetail } from '../oip/errors.ts';
import { decodeGrpcMessage, encodeGrpcMessage, FrameReader, sendGrpcStatus } from '../oip/grpc-wire.ts';
import { BusyError } from './body-budget.ts';
import { asOipError, endpointsFor } from './forwarding.ts';
import { type GrpcGatewayOptions, prepareCall, renameResponse, SERVICE_PREFIX } from './grpc-prepare.ts';
import type { RequestRecorder } from './metrics.ts';

/**
 * ModelStreamInfer as a stream of ModelInfer calls: each request message is checked, routed and
 * forwarded as a unary call as soon as it arrives, and each response is written to the stream as
 * soon as it completes (so not necessarily in request order; match them by `id`). The first failed
 * call ends the stream with its status; the stream ends OK once the client has closed its side and
 * every call has been answered.
 */
export class StreamInferCall {
  private readonly started = performance.now();
  private readonly reader: FrameReader;
  private pending = 0;
  private clientDone = false;
  private ended = false;
  private headersSent = false;
  /** Bytes taken from the gateway's budget: each message's until its call is answered. */
  private held = 0;

  constructor(
    private readonly opts: GrpcGatewayOptions,
    private readonly recorder: RequestRecorder,
    private readonly stream: http2.ServerHttp2Stream,
    private readonly headers: http2.IncomingHttpHeaders,
  ) {
    this.reader = new FrameReader(opts.maxBodyBytes);
  }

  start(): void {
    this.stream.on('error', () => this.end(GrpcCode.UNAVAILABLE, 'stream failed'));
    this.stream.on('data', (chunk: Buffer) => {
      if (this.ended) return;
      if (!this.opts.budget.take(chunk.length)) {
        this.fail(new BusyError(this.opts.budget.limit));
        return;
      }
      this.held += chunk.length;
      let frames: { flag: number; message: Buffer }[];
      try {
        frames = this.reader.push(chunk);
      } catch (err) {
        this.fail(new OipError(`ModelStreamInfer: ${(err as Error).message}`, 413));
        return;
      }
      for (const frame of frames) {
        try {
          this.call(frame);
        } catch (err) {
          this.fail(err);
        }
      }
    });
    this.stream.on('end', () => {
      this.clientDone = true;
      if (this.reader.leftover > 0)
        this.fail(new OipError('ModelStreamInfer: truncated message at the end of the stream', 400));
      else this.maybeFinish();
    });
  }

  private call(frame: { flag: number; message: Buffer }): void {
    const prepared = prepareCall(this.opts, 'ModelInfer', frame, this.headers);
    const resolution = prepared.resolution;
    if (!resolution) return;
    this.pending++;
    this.opts.upstream.forward(
      endpointsFor(this.opts, resolution),
      `${SERVICE_PREFIX}ModelInfer`,
      prepared.headers,
      prepared.body,
      (err, res) => {
        this.pending--;
        if (this.ended) return;
        const bytes = 5 + frame.message.length;
        this.opts.budget.release(bytes);
        this.held -= bytes;
        if (err !== undefined || !res) return this.fail(err);
        const code = Number(res.trailers['grpc-status'] ?? res.headers['grpc-status'] ?? GrpcCode.OK);
        if (code !== GrpcCode.OK) {
          const message = decodeGrpcMessage(
            String(res.trailers['grpc-message'] ?? res.headers['grpc-message'] ?? ''),
          );
          return this.end(code, scrubServerDetail(message));
        }
        this.write(renameResponse('ModelInfer', res.body, resolution.target), resolution.route);
        this.maybeFinish();
      },
    );
  }

  private write(body: Buffer, route: string): void {
    if (this.stream.destroyed || this.stream.closed) return;
    if (!this.headersSent) {
      this.headersSent = true;
      this.stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', [HEADER_ROUTE]: route },
        { waitForTrailers: true },
      );
    }
    this.stream.write(body);
  }

  private maybeFinish(): void {
    if (this.clientDone && this.pending === 0) this.end(GrpcCode.OK, '');
  }

  private fail(err: unknown): void {
    const e = asOipError(err);
    this.end(e.grpcCode, e.message);
  }

  private end(code: number, message: string): void {
    if (this.ended) return;
    this.ended = true;
    this.opts.budget.release(this.held);
    this.held = 0;
    this.recorder.record('model', code, this.started);
    const { stream } = this;
    if (stream.destroyed || stream.closed) return;
    if (!this.headersSent) {
      sendGrpcStatus(stream, code, message);
      return;
    }
    stream.once('wantTrailers', () =>
      stream.sendTrailers({ 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(message) }),
    );
    stream.end();
  }
}
