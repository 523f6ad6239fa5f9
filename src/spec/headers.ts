/**
 * Header names of the data plane: HTTP headers and gRPC metadata between clients, the gateway,
 * the dataflow engine and the agents, and the headers of Kafka records between pipeline steps.
 */

/** Correlates a request across hops (HTTP, gRPC and Kafka records alike). */
export const HEADER_REQUEST_ID = 'x-request-id';
/** W3C trace context: the caller's span, continued by the next hop (HTTP, gRPC, Kafka records). */
export const HEADER_TRACEPARENT = 'traceparent';
/** The route key a client asks for: a model, `<pipeline>.pipeline`, or an experiment. */
export const HEADER_MODEL = 'seldon-model';
/** The versioned model (or pipeline) a request was resolved to, for the agent or engine. */
export const HEADER_INTERNAL_MODEL = 'seldon-internal-model';
/** Which route served a response; sent back by clients to stay on an experiment's candidate. */
export const HEADER_ROUTE = 'x-seldon-route';
/** Explainer call headers that must not travel on to the steps after one. */
export const EXPLAINER_HEADERS: readonly string[] = ['x-seldon-alibi-type', 'x-seldon-alibi-method'];

// Kafka record headers.
/** The pipeline a record belongs to. */
export const HEADER_PIPELINE = 'pipeline';
/** On a record of the errors topic: the step (or model) that failed. */
export const HEADER_ERRORS = 'seldon-pipeline-errors';
/** How many times each step has run for this request (only when the pipeline allows cycles). */
export const HEADER_VISITS = 'seldon-step-visits';
/**
 * On a step's records (model input, model output, error) written by an engine that ran the step
 * itself, in the same transaction as the request's output: there to be read, not served again.
 */
export const HEADER_INLINE = 'inline-step';
/**
 * On an agent's 503: its inference server could not be reached, so nothing was processed and
 * the gateway may send the request to another replica.
 */
export const HEADER_REPLICA_UNAVAILABLE = 'x-mlops-replica-unavailable';
