/**
 * Where the runtime sends traces (OTLP over HTTP) and how many it keeps: the rules the `Runtime`
 * construct checks and the components apply.
 */

/** The OTLP/HTTP path of traces under a collector's base URL. */
export const OTLP_TRACES_PATH = '/v1/traces';

/** Why `endpoint` is not an OTLP/HTTP URL the runtime can send to, or undefined. */
export function otlpEndpointProblem(endpoint: string): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return `uses ${url.protocol.slice(0, -1)}, but traces are sent over OTLP/HTTP (http or https)`;
  if (url.username || url.password) return 'holds credentials, which would show in the manifests and logs';
  return undefined;
}

/** The traces URL for a collector's base URL; a URL already ending in `/v1/traces` is kept. */
export function otlpTracesUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.pathname.endsWith(OTLP_TRACES_PATH)) return url.href;
  return `${url.href.replace(/\/$/, '')}${OTLP_TRACES_PATH}`;
}

/** The TCP port traces go to. */
export function otlpPort(endpoint: string): number {
  const url = new URL(endpoint);
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

/** Why `ratio` is not a share of requests (0 to 1), or undefined. */
export function traceRatioProblem(ratio: number): string | undefined {
  return Number.isFinite(ratio) && ratio >= 0 && ratio <= 1 ? undefined : 'is not a number from 0 to 1';
}
