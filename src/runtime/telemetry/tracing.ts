/**
 * OpenTelemetry tracing for the runtime, behind a handful of functions the components call at
 * each hop. Context travels as W3C `traceparent`/`tracestate` in HTTP headers, gRPC metadata and
 * Kafka record headers, always passed explicitly (no async context manager).
 *
 * Off unless `configureTracing` was given an OTLP endpoint: then every hook returns at its first
 * line without allocating, and the SDK and exporter are never loaded.
 */
import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { otlpEndpointProblem, otlpTracesUrl, traceRatioProblem } from '../../spec/tracing.ts';

export { type Span, SpanKind };

/** Headers as HTTP/1, HTTP/2 and Kafka records carry them. */
export type Carrier = Record<string, unknown>;

export interface TracingOptions {
  /** `service.name` of the spans: the component (gateway, agent, ...). */
  service: string;
  /** OTLP/HTTP base URL (`http://collector:4318`) or full traces URL; none: tracing off. */
  endpoint?: string;
  /** Share of new traces recorded, 0 to 1; a continued trace follows its parent's decision. */
  ratio?: number;
  /** Where spans go instead of OTLP, one at a time (tests). */
  exporter?: SpanExporter;
}

export interface Tracing {
  /** Where spans are sent, or undefined when tracing is off. */
  readonly endpoint: string | undefined;
  /** Sends the spans still buffered and stops. */
  shutdown(): Promise<void>;
}

let tracer: Tracer | undefined;
/** W3C trace context, set with the tracer. */
let propagator: TextMapPropagator<Carrier>;

const getter: TextMapGetter<Carrier> = {
  keys: (c) => Object.keys(c),
  get(c, key) {
    const v = c[key];
    if (typeof v === 'string') return v;
    return Array.isArray(v) ? (v as string[]) : undefined;
  },
};
const setter: TextMapSetter<Carrier> = {
  set(c, key, value) {
    c[key] = value;
  },
};

/** `--trace-ratio` as a number from 0 to 1; throws a message naming the flag otherwise. */
export function parseRatio(text: string | undefined, flag = '--trace-ratio'): number {
  if (text === undefined || text === '') return 1;
  const n = Number(text);
  if (traceRatioProblem(n))
    throw new Error(
      `${flag} "${text}": expected a number from 0 to 1 (the share of requests traced), e.g. 0.1`,
    );
  return n;
}

/** The OTLP/HTTP traces URL for a collector's base URL; throws a message with the fix otherwise. */
export function tracesUrl(endpoint: string): string {
  const problem = otlpEndpointProblem(endpoint);
  if (problem)
    throw new Error(
      `OTLP endpoint "${endpoint}" ${problem}: give http(s)://HOST:PORT, e.g. http://127.0.0.1:4318`,
    );
  return otlpTracesUrl(endpoint);
}

/** Turns tracing on for this process when an endpoint (or exporter) is given. */
export async function configureTracing(opts: TracingOptions): Promise<Tracing> {
  if (!opts.endpoint && !opts.exporter) return { endpoint: undefined, shutdown: async () => undefined };
  const url = opts.endpoint ? tracesUrl(opts.endpoint) : undefined;
  // Loaded only when tracing is on: tracing off adds nothing to the heap.
  const sdk = await import('@opentelemetry/sdk-trace-base');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const { W3CTraceContextPropagator } = await import('@opentelemetry/core');
  propagator = new W3CTraceContextPropagator();
  let processor: InstanceType<typeof sdk.SimpleSpanProcessor | typeof sdk.BatchSpanProcessor>;
  if (opts.exporter) processor = new sdk.SimpleSpanProcessor(opts.exporter);
  else {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    processor = new sdk.BatchSpanProcessor(new OTLPTraceExporter({ url }));
  }
  const provider = new sdk.BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.service }),
    sampler: new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(opts.ratio ?? 1) }),
    spanProcessors: [processor],
  });
  tracer = provider.getTracer('cdk8s-mlops');
  return {
    endpoint: url,
    async shutdown() {
      tracer = undefined;
      await provider.shutdown();
    },
  };
}

/** Whether spans are being made in this process. */
export function tracingOn(): boolean {
  return tracer !== undefined;
}

/**
 * Starts a span continuing the trace in `carrier`'s `traceparent` (a new trace without one).
 * Undefined when tracing is off.
 */
export function startSpan(
  name: string,
  kind: SpanKind,
  carrier: Carrier | undefined,
  attributes?: Attributes,
): Span | undefined {
  if (tracer === undefined) return undefined;
  const parent: Context = carrier ? propagator.extract(ROOT_CONTEXT, carrier, getter) : ROOT_CONTEXT;
  return tracer.startSpan(name, { kind, attributes }, parent);
}

/** Starts a span under `parent`, in the same process; undefined when `parent` is. */
export function startChildSpan(name: string, kind: SpanKind, parent: Span | undefined): Span | undefined {
  if (tracer === undefined || parent === undefined) return undefined;
  return tracer.startSpan(name, { kind }, trace.setSpan(ROOT_CONTEXT, parent));
}

/**
 * A pipeline step's span, continuing the trace of the record that feeds it (`pipeline.step NAME`);
 * the records the step writes carry it on to the steps after it.
 */
export function startStepSpan(
  pipeline: string | undefined,
  step: string,
  headers: Carrier,
): Span | undefined {
  if (tracer === undefined) return undefined;
  const span = startSpan(`pipeline.step ${step}`, SpanKind.CONSUMER, headers);
  span?.setAttributes({ 'mlops.pipeline': pipeline ?? '', 'mlops.step': step });
  return span;
}

/** A load or unload the scheduler sends an agent, as the control protocol carries it. */
interface Operation {
  operation: string;
  model: { name: string; version: number };
  traceparent?: string;
}

/**
 * Records the scheduler sending `op` to a replica (`scheduler.load` / `scheduler.unload`) and
 * returns the operation carrying that span's context, so the agent's span continues it.
 */
export function traceOperation<T extends Operation>(op: T, server: string, replica: number): T {
  if (tracer === undefined) return op;
  const span = tracer.startSpan(op.operation === 'LOAD_MODEL' ? 'scheduler.load' : 'scheduler.unload', {
    kind: SpanKind.PRODUCER,
    attributes: {
      'mlops.model': op.model.name,
      'mlops.model_version': op.model.version,
      'mlops.server': server,
      'mlops.replica': replica,
    },
  });
  const carrier: Carrier = {};
  injectSpan(span, carrier);
  span.end();
  return { ...op, traceparent: carrier.traceparent as string };
}

/** The agent's span carrying out `op` (`agent.load` / `agent.unload`), under the scheduler's. */
export function startOperationSpan(op: Operation): Span | undefined {
  if (tracer === undefined) return undefined;
  const name = op.operation === 'LOAD_MODEL' ? 'agent.load' : 'agent.unload';
  const span = startSpan(
    name,
    SpanKind.CONSUMER,
    op.traceparent ? { traceparent: op.traceparent } : undefined,
  );
  span?.setAttributes({ 'mlops.model': op.model.name, 'mlops.model_version': op.model.version });
  return span;
}

/** Writes `span`'s context into outgoing headers, so the next hop's spans are its children. */
export function injectSpan(span: Span | undefined, carrier: Carrier): void {
  if (span === undefined) return;
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, setter);
}

/** Ends a request's span with its HTTP or gRPC status code, failed when `failed`. */
export function endSpanWithCode(span: Span | undefined, code: number | string, failed: boolean): void {
  if (span === undefined) return;
  span.setAttribute('mlops.status_code', Number(code));
  endSpan(span, failed ? `status ${code}` : undefined);
}

/** Ends `span`, marked failed with `error` when there is one. */
export function endSpan(span: Span | undefined, error?: unknown): void {
  if (span === undefined) return;
  if (error !== undefined && error !== null && error !== false) {
    const message = error instanceof Error ? error.message : String(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message });
  }
  span.end();
}
