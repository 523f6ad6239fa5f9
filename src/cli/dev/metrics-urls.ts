/** The Prometheus endpoints of the components `mlops dev` runs, as it prints them. */
export interface MetricsEndpoint {
  /** `scheduler`, `gateway`, `dataflow`, `agent/<server>-<idx>` or `mlserver/<server>-<idx>`. */
  component: string;
  url: string;
}

/** One `  metrics    <component>  <url>` line per endpoint, aligned, for the endpoint list. */
export function metricsLines(endpoints: readonly MetricsEndpoint[]): string[] {
  const width = Math.max(0, ...endpoints.map((e) => e.component.length));
  return endpoints.map((e) => `  metrics    ${e.component.padEnd(width)}  ${e.url}`);
}
