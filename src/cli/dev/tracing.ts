/** `mlops dev --otlp URL --trace-ratio R`: every component's tracing flags, and the line saying where traces go. */
import { otlpEndpointProblem, otlpTracesUrl, traceRatioProblem } from '../../spec/tracing.ts';
import { CliError } from '../errors.ts';

export interface DevTracing {
  /** Flags added to every component's command line. */
  argv: string[];
  /** The line `mlops dev` prints among its endpoints. */
  line: string;
}

/** From the options, else the standard OpenTelemetry variables; off without an endpoint. */
export function devTracing(
  opts: { otlp?: string; traceRatio?: string },
  env: NodeJS.ProcessEnv = process.env,
): DevTracing {
  const endpoint = opts.otlp ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  // Said explicitly either way: the components would otherwise read these variables themselves.
  if (!endpoint)
    return {
      argv: ['--otlp-endpoint', ''],
      line: '  traces     off (--otlp URL sends them to an OTLP/HTTP collector)',
    };
  const problem = otlpEndpointProblem(endpoint);
  if (problem)
    throw new CliError(
      `dev: --otlp "${endpoint}" ${problem}; give the collector's OTLP/HTTP base URL, e.g. --otlp http://127.0.0.1:4318`,
      2,
    );
  const ratioText = opts.traceRatio ?? env.OTEL_TRACES_SAMPLER_ARG ?? '1';
  const ratio = Number(ratioText);
  if (ratioText.trim() === '' || traceRatioProblem(ratio))
    throw new CliError(
      `dev: --trace-ratio "${ratioText}" is not a number from 0 to 1; e.g. --trace-ratio 0.1 traces one request in ten`,
      2,
    );
  return {
    argv: ['--otlp-endpoint', endpoint, '--trace-ratio', String(ratio)],
    line: `  traces     ${otlpTracesUrl(endpoint)} (OTLP/HTTP, ${ratio === 1 ? 'every request' : `${Math.round(ratio * 10_000) / 100}% of new requests`})`,
  };
}
