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
