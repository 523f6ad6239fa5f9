/**
 * Text a client controls outside the body (path segments, header values), checked before it is
 * used: a bad value is the caller's error (400), never a failure of the server behind.
 */
import { OipError } from './errors.ts';

/** A percent-encoded path segment, decoded; 400 when it is not valid percent-encoded UTF-8. */
export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new OipError(
      `path segment "${segment.slice(0, 80)}" is not valid percent-encoded UTF-8; percent-encode each byte of the name's UTF-8 form (e.g. %C3%A9 for é)`,
      400,
    );
  }
}

/** Visible ASCII, space and tab: what every HTTP/1.1 and HTTP/2 implementation passes on intact. */
const PLAIN_HEADER_VALUE = /^[\t\x20-\x7e]*$/;
/** Request ids travel in headers, logs and Kafka record headers: printable ASCII, bounded. */
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * The request's headers as forwarded, checked: a value with bytes outside visible ASCII (raw
 * UTF-8, control characters) names the header and the fix. Servers behind answer such values
 * unpredictably (a dropped connection, a rewritten value), so they are refused here.
 */
export function checkHeaderValues(headers: Record<string, string | string[] | undefined>): void {
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      if (!PLAIN_HEADER_VALUE.test(v)) {
        throw new OipError(
          `header ${name} holds characters outside visible ASCII; percent-encode or base64 the value`,
          400,
        );
      }
    }
  }
}

/** A client's request id, checked: 1 to 128 printable ASCII characters, no spaces. */
export function checkRequestId(id: string, header: string): string {
  if (!REQUEST_ID.test(id)) {
    throw new OipError(
      `${header} must be 1 to 128 printable ASCII characters without spaces (a UUID, for one); got ${id.length} characters`,
      400,
    );
  }
  return id;
}
