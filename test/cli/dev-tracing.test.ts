import { describe, expect, it } from 'vitest';
import { devTracing } from '../../src/cli/dev/tracing.ts';

describe('mlops dev --otlp / --trace-ratio', () => {
  it('passes the endpoint and ratio to every component and says where traces go', () => {
    const t = devTracing({ otlp: 'http://127.0.0.1:4318', traceRatio: '0.05' }, {});
    expect(t.argv).toEqual(['--otlp-endpoint', 'http://127.0.0.1:4318', '--trace-ratio', '0.05']);
    expect(t.line).toBe('  traces     http://127.0.0.1:4318/v1/traces (OTLP/HTTP, 5% of new requests)');
  });

  it('takes the OpenTelemetry variables as defaults, and is off, explicitly, without an endpoint', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER_ARG: '1' };
    expect(devTracing({}, env).line).toBe('  traces     http://c:4318/v1/traces (OTLP/HTTP, every request)');
    const off = devTracing({}, {});
    // An empty flag, so a component never picks the endpoint up from the environment itself.
    expect(off.argv).toEqual(['--otlp-endpoint', '']);
    expect(off.line).toMatch(/traces {5}off \(--otlp URL/);
  });

  it('refuses a bad endpoint or ratio with the fix', () => {
    expect(() => devTracing({ otlp: 'collector:4317' }, {})).toThrow(
      /--otlp "collector:4317" uses collector.*e\.g\. --otlp http:\/\/127\.0\.0\.1:4318/,
    );
    expect(() => devTracing({ otlp: 'http://c:4318', traceRatio: 'all' }, {})).toThrow(
      /--trace-ratio "all" is not a number from 0 to 1/,
    );
  });
});
