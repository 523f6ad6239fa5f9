// The inference server's model repository API (index, load, unload) belongs to the agent alone:
// what is loaded where is the scheduler's decision. Clients reaching the proxies get 403 /
// PERMISSION_DENIED, however the path is spelled.

export const REPOSITORY_REFUSED =
  'the model repository API is not served through the agent: the scheduler decides what is loaded';

/** Whether a REST request path (with any query) reaches the repository API. */
export function isRepositoryPath(rawPath: string): boolean {
  let path: string;
  try {
    // Resolves dot segments (also percent-encoded ones); then decode and fold what servers fold.
    path = decodeURIComponent(new URL(rawPath.replace(/\/{2,}/g, '/'), 'http://agent').pathname);
  } catch {
    return /repository/i.test(rawPath);
  }
  return /^\/v2\/+repository(\/|$)/i.test(path.replace(/\/{2,}/g, '/'));
}

/** Whether a gRPC `:path` (`/package.Service/Method`) is a repository call: the OIP service's
 * Repository* methods, or MLServer's own model repository service. */
export function isRepositoryMethod(grpcPath: string): boolean {
  const m = /^\/([^/]*)\/([^/]*)$/.exec(grpcPath);
  if (!m) return false;
  return /repository/i.test(m[1]) || /^repository/i.test(m[2]);
}
