import type { Logger } from 'pino';
import { usageError } from '../service/process.ts';
import { configureTracing, parseRatio, type Tracing, tracesUrl } from './tracing.ts';

/** A component's tracing as its `--otlp-endpoint` and `--trace-ratio` flags ask; bad values are usage errors. */
export async function tracingFromFlags(
  component: string,
  values: { 'otlp-endpoint'?: string; 'trace-ratio'?: string },
  logger: Logger,
): Promise<Tracing> {
  const endpoint = values['otlp-endpoint'] || undefined;
  let ratio = 1;
  try {
    ratio = parseRatio(values['trace-ratio']);
    if (endpoint) tracesUrl(endpoint);
  } catch (err) {
    usageError(`${component}: ${(err as Error).message}`);
  }
  const tracing = await configureTracing({ service: `mlops-${component}`, endpoint, ratio });
  if (tracing.endpoint) logger.info({ otlp: tracing.endpoint, ratio }, 'sending traces');
  return tracing;
}
