/**
 * The `tracing` setting of a `Runtime` (Seldon's `tracingConfig`): every runtime container sends
 * OpenTelemetry traces to one OTLP/HTTP collector, keeping a share of new requests.
 */
import type { Construct } from 'constructs';
import { INSTANCE_LABEL, PART_OF_LABEL } from '../spec/annotations.ts';
import { otlpEndpointProblem, otlpPort, traceRatioProblem } from '../spec/tracing.ts';
import { addProblem } from './validation.ts';
import { k8s } from './workloads/kplus.ts';
import { PART_OF } from './workloads/workload.ts';

export interface TracingSettings {
  /**
   * Base URL of an OTLP/HTTP receiver (an OpenTelemetry Collector, Jaeger, ...): spans go to
   * `<endpoint>/v1/traces`. The runtime pods may reach its port (a NetworkPolicy allows it).
   */
  readonly endpoint: string;
  /**
   * Share of new requests traced, from 0 to 1. A request that arrives with a W3C `traceparent`
   * follows its caller's choice instead.
   * @default 1 - every request, as Seldon's `tracingConfig.ratio`
   */
  readonly ratio?: number;
}

/** The environment every runtime container gets: the standard OpenTelemetry variables. */
export function tracingEnv(t: TracingSettings | undefined): k8s.EnvVar[] | undefined {
  if (!t) return undefined;
  return [
    { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: t.endpoint },
    { name: 'OTEL_TRACES_SAMPLER_ARG', value: String(t.ratio ?? 1) },
  ];
}

/** Reports a bad endpoint or ratio; true when the settings can be used. */
export function checkTracing(scope: Construct, t: TracingSettings | undefined): boolean {
  if (!t) return false;
  let ok = true;
  const endpointProblem = typeof t.endpoint === 'string' ? otlpEndpointProblem(t.endpoint) : 'is missing';
  if (endpointProblem) {
    ok = false;
    addProblem(scope, {
      field: 'tracing.endpoint',
      value: t.endpoint,
      message: endpointProblem,
      fix: 'give the OTLP/HTTP base URL of a collector, e.g. "http://otel-collector.observability:4318"',
    });
  }
  if (t.ratio !== undefined && traceRatioProblem(t.ratio)) {
    ok = false;
    addProblem(scope, {
      field: 'tracing.ratio',
      value: t.ratio,
      message: traceRatioProblem(t.ratio) as string,
      fix: 'use the share of requests to trace, e.g. 0.1 for one in ten (1 traces every request)',
    });
  }
  return ok;
}

/** Lets every runtime pod of the instance reach the collector's port (all else stays denied). */
export function tracingPolicy(scope: Construct, prefix: string, instance: string, t: TracingSettings): void {
  new k8s.KubeNetworkPolicy(scope, 'AllowOtlp', {
    metadata: { name: `${prefix}-allow-otlp` },
    spec: {
      podSelector: { matchLabels: { [PART_OF_LABEL]: PART_OF, [INSTANCE_LABEL]: instance } },
      policyTypes: ['Egress'],
      egress: [{ ports: [{ protocol: 'TCP', port: k8s.IntOrString.fromNumber(otlpPort(t.endpoint)) }] }],
    },
  });
}
