/**
 * How the runtime's components prove who they are to the scheduler. In a cluster each agent and
 * gateway presents a projected service-account token issued for the scheduler's audience; the
 * scheduler checks it with the TokenReview API and reads the pod it is bound to. Under `mlops dev`
 * every component is given one secret for the run instead.
 */

/** Audience of the tokens presented to the scheduler: a token for the API server is refused. */
export const SCHEDULER_TOKEN_AUDIENCE = 'mlops-scheduler';
/** Where the agent and gateway containers find their scheduler token (kubelet-rotated). */
export const SCHEDULER_TOKEN_DIR = '/var/run/secrets/mlops/scheduler';
export const SCHEDULER_TOKEN_FILE = `${SCHEDULER_TOKEN_DIR}/token`;
/** Token lifetime asked of the kubelet, which renews it at 80% of that. */
export const SCHEDULER_TOKEN_SECONDS = 3600;
/** The per-run shared secret of `mlops dev` (environment only: never a flag, never in YAML). */
export const CONTROL_SECRET_ENV = 'MLOPS_CONTROL_SECRET';

/** The StatefulSet pod that is replica `idx` of Server `server`. */
export function replicaPodName(server: string, idx: number): string {
  return `${server}-${idx}`;
}
