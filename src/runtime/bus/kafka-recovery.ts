/**
 * How quickly the Kafka bus notices a broker that came back, and a consumer group a member that
 * died. Both bound how long pipelines stall after a fault.
 */

/**
 * Client-level retries (connections, metadata, group calls): back-off capped at one second, so
 * a broker that returns is reconnected within about a second rather than the five seconds of a
 * longer cap; thirty attempts outlast a broker restart before a request gives up (a consumer
 * that gives up is replaced, see ConsumerRun).
 */
export const CLIENT_RETRY = { initialRetryTime: 100, maxRetryTime: 1000, retries: 30 };

/**
 * A member gone without leaving its group (kill -9, a node lost, or a consumer replaced while the
 * broker was away: the broker reloads it as a member when it returns) holds its partitions until
 * its session times out, and its successor's join waits that long before it reads anything. Six
 * seconds is the least a broker accepts by default (`group.min.session.timeout.ms`), which keeps
 * that wait inside the ten seconds pipelines have to resume; heartbeats every second, also while
 * a batch runs, keep a live member well inside it on a loaded machine.
 */
export const GROUP_TIMEOUTS = { sessionTimeout: 6000, heartbeatInterval: 1000 };

/** Pause before a consumer that stopped (or failed to recover) is replaced again. */
export const RECOVERY_RETRY_MS = 250;
