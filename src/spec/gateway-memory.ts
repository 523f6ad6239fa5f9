/**
 * How the gateway sizes itself from its container's memory limit: the request-body bytes it holds
 * at once, and the JavaScript heap it may grow. Synthesis passes both to the gateway it deploys,
 * so the limits follow whatever memory the Runtime gives it.
 */

/**
 * Bodies in flight get 1/20 of the limit. Decoding a JSON body holds many times its size: the
 * bytes, the text, and the parsed tensors, a JavaScript value per number (measured: one 31 MiB
 * body of nested numbers takes a gateway started at 72 MB to 470-480 MB at its peak, too close
 * to 512Mi; 1/20 leaves a margin for the collector's timing).
 */
const BODY_SHARE = 1 / 20;
/**
 * The heap gets 5/8: the parse of the largest body fits (at 1/2 it does not), while the raw
 * bodies live outside it; a fixed ceiling makes the collector work within the limit.
 */
const HEAP_SHARE = 5 / 8;
const MiB = 1024 * 1024;

/** Request-body bytes the gateway may hold at once (its `--max-inflight-bytes`). */
export function gatewayInflightBytes(memoryLimitBytes: number): number {
  return Math.floor((memoryLimitBytes * BODY_SHARE) / MiB) * MiB;
}

/** The gateway's `--max-old-space-size` in MiB, so its garbage collector works within the limit. */
export function gatewayHeapMiB(memoryLimitBytes: number): number {
  return Math.floor((memoryLimitBytes * HEAP_SHARE) / MiB);
}
