/**
 * What the gateway does to every request it forwards, over REST, gRPC or as a mirror copy: pick
 * the endpoints of the resolved target, tell the replica which resource the request is for,
 * point the path at it, and turn upstream failures into inference-protocol errors.
 */
import { HEADER_INTERNAL_MODEL, HEADER_MODEL } from '../../spec/headers.ts';
import { OipError } from '../oip/errors.ts';
import type { Endpoint } from '../protocol/control.ts';
import { ConnectFailure } from '../upstream/balancer.ts';
import type { Resolution, Target } from './router.ts';

/** The replicas to send to: the model's, or the pipeline gateways for a pipeline. */
export function endpointsFor(
  opts: { pipelineGateways: () => readonly Endpoint[] },
  r: Resolution,
): readonly Endpoint[] {
  if (r.target.kind === 'model') return r.target.endpoints;
  const gateways = opts.pipelineGateways();
  if (gateways.length === 0)
    throw new OipError(`pipeline "${r.target.name}": no pipeline gateway is available`, 503);
  return gateways;
}

/** Headers that tell the replica (agent or pipeline gateway) which resource the request is for. */
export function setTargetHeaders(headers: Record<string, unknown>, target: Target): void {
  if (target.kind === 'model') {
    headers[HEADER_MODEL] = target.name;
    headers[HEADER_INTERNAL_MODEL] = target.internalName;
  } else {
    headers[HEADER_MODEL] = `${target.name}.pipeline`;
    headers[HEADER_INTERNAL_MODEL] = `${target.name}.pipeline`;
  }
}

/**
 * Points the path at the chosen target under the name its replica serves it by (experiments may
 * pick another candidate than the path names). The version segment goes: the gateway has
 * answered for the version already, and a replica serves that version under its internal name.
 */
export function rewritePath(url: string, target: Target): string {
  const name = target.kind === 'pipeline' ? target.name : target.internalName;
  const collection = target.kind === 'pipeline' ? 'pipelines' : 'models';
  return url.replace(
    /^\/v2\/(models|pipelines)\/[^/?]+(\/versions\/[^/?]+)?/,
    `/v2/${collection}/${encodeURIComponent(name)}`,
  );
}

/** A version named in a model path that is not the one the route serves is not found. */
export function checkVersion(version: string | undefined, target: Target): void {
  if (version === undefined || target.kind !== 'model' || version === String(target.version)) return;
  throw new OipError(`model "${target.name}" has no version ${version} (serving ${target.version})`, 404);
}

/** An upstream failure as the status the client gets (503 unreachable, 504 timed out, 502 otherwise). */
export function asOipError(err: unknown): OipError {
  if (err instanceof OipError) return err;
  if (err instanceof ConnectFailure) return new OipError(err.message, 503);
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ETIMEDOUT') return new OipError('upstream timed out', 504);
  return new OipError(`upstream failed: ${(err as Error)?.message ?? String(err)}`, 502);
}

/** A header's value; the last one when it was sent several times. */
export function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[v.length - 1] : v;
}
