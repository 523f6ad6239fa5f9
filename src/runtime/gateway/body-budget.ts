import { OipError } from '../oip/errors.ts';

/** Seconds a client is asked to wait before retrying a request refused for want of memory. */
export const RETRY_AFTER_SECONDS = 1;

/** A request refused because the gateway holds as many body bytes as it may: retry shortly. */
export class BusyError extends OipError {
  readonly retryAfterSeconds = RETRY_AFTER_SECONDS;

  constructor(limit: number) {
    super(
      `the gateway is holding its limit of ${limit} bytes of request bodies in flight; retry after ${RETRY_AFTER_SECONDS} s or send smaller batches`,
      503,
    );
  }
}

/**
 * The request-body bytes the gateway holds at once, over every REST and gRPC call: each call
 * takes its bytes as they arrive (or all of them up front when it declares a length) and gives
 * them back once answered. A body that would go over is refused instead of buffered, so memory
 * stays bounded whatever the clients send.
 */
export class BodyBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Takes `bytes`; false, taking nothing, when they would go over the limit. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.used -= bytes;
  }

  get inUse(): number {
    return this.used;
  }
}
