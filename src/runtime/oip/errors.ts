/** An error that maps to an OIP error response (REST status + gRPC status code). */
export class OipError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly grpcCode: number = grpcCodeFor(status),
  ) {
    super(message);
    this.name = 'OipError';
  }
}

// gRPC status codes used by the data plane (from the gRPC spec).
export const GrpcCode = {
  OK: 0,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

export function grpcCodeFor(status: number): number {
  if (status === 400 || status === 422) return GrpcCode.INVALID_ARGUMENT;
  if (status === 404) return GrpcCode.NOT_FOUND;
  if (status === 413) return GrpcCode.RESOURCE_EXHAUSTED;
  if (status === 501) return GrpcCode.UNIMPLEMENTED;
  if (status === 503 || status === 502) return GrpcCode.UNAVAILABLE;
  if (status === 504) return GrpcCode.DEADLINE_EXCEEDED;
  return status >= 500 ? GrpcCode.INTERNAL : GrpcCode.UNKNOWN;
}

export function errorBody(message: string): string {
  return JSON.stringify({ error: message });
}

const MAX_ERROR_CHARS = 500;

/**
 * An upstream's error body as an OIP error message: an OIP `{"error": ...}` keeps its text as is,
 * FastAPI's `{"detail": ...}` is summarised, and anything else (a Python traceback, an HTML
 * page) is reduced to its last line, the exception itself, so no stack trace reaches a client.
 */
export function upstreamErrorMessage(status: number, body: Buffer, resource: string): string {
  const text = body.toString('utf8').trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const obj = parsed as { error?: unknown; detail?: unknown } | undefined;
  // Already an OIP error: its text is the server's own wording, passed on as it is.
  if (typeof obj?.error === 'string') return truncate(obj.error);
  let message: string;
  if (obj?.detail !== undefined) message = describeDetail(obj.detail);
  else {
    const lines = text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    message = lines[lines.length - 1] ?? '';
  }
  message = truncate(message);
  return message ? `${resource}: ${message}` : `${resource}: the model server answered ${status}`;
}

function truncate(message: string): string {
  return message.length > MAX_ERROR_CHARS ? `${message.slice(0, MAX_ERROR_CHARS - 3)}...` : message;
}

function describeDetail(detail: unknown): string {
  if (!Array.isArray(detail)) return typeof detail === 'string' ? detail : JSON.stringify(detail);
  return detail
    .map((d) => {
      const e = d as { loc?: unknown[]; msg?: string };
      return e.loc ? `${e.loc.join('.')}: ${e.msg}` : JSON.stringify(d);
    })
    .join('; ');
}
