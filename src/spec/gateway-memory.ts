/**
 * How the gateway sizes itself from its container's memory limit: the request-body bytes it holds
 * at once, and the JavaScript heap it may grow. Synthesis passes both to the gateway it deploys,
 * so the limits follow whatever memory the Runtime gives it.
 */

/**
 * Bodies in flight get 1/8 of the limit. Decoding a JSON body holds several times its size (the
 * bytes, the text, the parsed tensors), and the process itself needs about 100 MB.
 */
const BODY_SHARE = 1 / 8;
/** The heap gets 5/8: room for parsed bodies and the process, while Buffers live outside it. */
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
