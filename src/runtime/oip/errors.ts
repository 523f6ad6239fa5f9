import { jsonDepthExceeds } from './json-depth.ts';

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
 * An upstream's error body as an OIP error message: an OIP `{"error": ...}` keeps its wording,
 * FastAPI's `{"detail": ...}` is summarised, and anything else (a Python traceback, an HTML
 * page) is reduced to its last line, the exception itself. Whatever the form, stack traces and
 * the server's file paths are taken out (`scrubServerDetail`).
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
  if (typeof obj?.error === 'string') return truncate(scrubServerDetail(obj.error));
  let message: string;
  if (obj?.detail !== undefined)
    // A detail nested too deep to describe says nothing a caller can use.
    message = jsonDepthExceeds(obj.detail) ? '' : describeDetail(obj.detail);
  else {
    const lines = text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    message = lines[lines.length - 1] ?? '';
  }
  message = truncate(scrubServerDetail(message));
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

const TRACEBACK = 'Traceback (most recent call last)';
/** Python (`File "...", line N, in f`) and JavaScript (`at f (/x.js:1:2)`) stack frames. */
const STACK_FRAME = /\s*File "[^"\n]*", line \d+(?:, in [^\n]*)?|\n\s*at [^\n]*/g;
/**
 * Absolute file-system paths of two segments or more, not inside a URL or a relative path; OIP
 * paths (`/v2/...`) stay, they name the API rather than the server's files.
 */
const FILE_PATH = /(?<![\w.:/~-])(?:\/(?!v2\/)[\w.@+~-]+){2,}\/?|\b[A-Za-z]:\\[^\s'"]+/g;

/**
 * A model server's error text as a client may see it: a Python traceback is cut to its last line
 * (the exception), stack frames go, and file-system paths become `<path>`; they tell an
 * attacker about the server and tell the caller nothing they can act on.
 */
export function scrubServerDetail(text: string): string {
  let out = text;
  const tb = out.lastIndexOf(TRACEBACK);
  if (tb >= 0) {
    const lines = out
      .slice(tb)
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    out = `${out.slice(0, tb)}${lines.length > 1 ? lines[lines.length - 1] : ''}`.trim();
  }
  return out.replace(STACK_FRAME, '').replace(FILE_PATH, '<path>');
}
