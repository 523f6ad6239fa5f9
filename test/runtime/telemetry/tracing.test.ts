import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import {
  configureTracing,
  endSpan,
  injectSpan,
  parseRatio,
  SpanKind,
  startOperationSpan,
  startSpan,
  type Tracing,
  traceOperation,
  tracesUrl,
  tracingOn,
} from '../../../src/runtime/telemetry/tracing.ts';
import { runPipeline, tensor } from '../dataflow/fixtures.ts';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const CALLER = 'b7ad6b7169203331';
const sampled = `00-${TRACE}-${CALLER}-01`;

let tracing: Tracing | undefined;
afterEach(async () => {
  await tracing?.shutdown();
  tracing = undefined;
});

async function recording(ratio = 1): Promise<InMemorySpanExporter> {
  const exporter = new InMemorySpanExporter();
  tracing = await configureTracing({ service: 'test', exporter, ratio });
  return exporter;
}

const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe('tracing', () => {
  it('is off without an endpoint: no span, nothing written to outgoing headers', async () => {
    tracing = await configureTracing({ service: 'test' });
    expect(tracing.endpoint).toBeUndefined();
    expect(tracingOn()).toBe(false);
    const span = startSpan('x', SpanKind.SERVER, { traceparent: sampled });
    expect(span).toBeUndefined();
    const out: Record<string, unknown> = {};
    injectSpan(span, out);
    expect(out).toEqual({});
    expect(
      traceOperation({ operation: 'LOAD_MODEL', model: { name: 'm', version: 1 } }, 's', 0),
    ).not.toHaveProperty('traceparent');
  });

  it('continues an incoming traceparent and hands its own span on to the next hop', async () => {
    const exporter = await recording();
    const span = startSpan('hop', SpanKind.SERVER, { traceparent: sampled });
    const out: Record<string, unknown> = {};
    injectSpan(span, out);
    endSpan(span, new Error('boom'));
    const [done] = exporter.getFinishedSpans();
    expect(done.spanContext().traceId).toBe(TRACE);
    expect(parentOf(done)).toBe(CALLER);
    expect(done.status).toMatchObject({ code: 2, message: 'boom' });
    expect(out.traceparent).toBe(`00-${TRACE}-${done.spanContext().spanId}-01`);
  });

  it('keeps the ratio of new traces, and follows the caller for continued ones', async () => {
    const exporter = await recording(0);
    const root = startSpan('new', SpanKind.SERVER, {});
    const out: Record<string, unknown> = {};
    injectSpan(root, out);
    endSpan(root);
    // Not recorded, and the next hop is told so (flags 00) rather than deciding again.
    expect(out.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    endSpan(startSpan('continued', SpanKind.SERVER, { traceparent: sampled }));
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['continued']);
  });

  it("links the agent's load to the scheduler's", async () => {
    const exporter = await recording();
    const op = traceOperation(
      { operation: 'LOAD_MODEL', model: { name: 'iris', version: 2 } },
      'mlserver',
      1,
    );
    endSpan(startOperationSpan(op));
    const [scheduler, agent] = exporter.getFinishedSpans();
    expect([scheduler.name, agent.name]).toEqual(['scheduler.load', 'agent.load']);
    expect(scheduler.attributes).toMatchObject({
      'mlops.model': 'iris',
      'mlops.server': 'mlserver',
      'mlops.replica': 1,
    });
    expect(parentOf(agent)).toBe(scheduler.spanContext().spanId);
  });

  for (const inline of [true, false]) {
    it(`gives every pipeline step a span under the one before it (${inline ? 'inline' : 'over topics'})`, async () => {
      const exporter = await recording();
      const add = (k: number) => (inputs: { data: unknown[] }[]) => [
        tensor('y', [(inputs[0].data[0] as number) + k]),
      ];
      const p = await runPipeline(
        'traced',
        {
          steps: [{ name: 'a' }, { name: 'b', inputs: ['a'] }, { name: 'c', inputs: ['b'] }],
          output: { steps: ['c'] },
        },
        { a: add(1), b: add(10), c: add(100) },
        { inline },
      );
      try {
        const r = await p.infer({ inputs: [tensor('x', [1])] }, { traceparent: sampled });
        expect(r.response.outputs[0].data).toEqual([112]);
      } finally {
        await p.stop();
      }
      const spans = exporter.getFinishedSpans();
      const named = (n: string) => spans.find((s) => s.name === n) as ReadableSpan;
      const gateway = named('pipeline-gateway.infer');
      expect(parentOf(gateway)).toBe(CALLER);
      expect(parentOf(named('pipeline.step a'))).toBe(gateway.spanContext().spanId);
      expect(parentOf(named('pipeline.step b'))).toBe(named('pipeline.step a').spanContext().spanId);
      expect(parentOf(named('pipeline.step c'))).toBe(named('pipeline.step b').spanContext().spanId);
      for (const s of spans) expect(s.spanContext().traceId).toBe(TRACE);
      expect(named('pipeline.step b').attributes).toMatchObject({
        'mlops.pipeline': 'traced',
        'mlops.step': 'b',
      });
    });
  }

  it('names the flag and the fix for a bad ratio or endpoint', () => {
    expect(parseRatio('0.25')).toBe(0.25);
    expect(() => parseRatio('2')).toThrow('--trace-ratio "2": expected a number from 0 to 1');
    expect(tracesUrl('http://c:4318')).toBe('http://c:4318/v1/traces');
    expect(tracesUrl('http://c:4318/v1/traces')).toBe('http://c:4318/v1/traces');
    expect(() => tracesUrl('c:4317')).toThrow(
      /OTLP endpoint "c:4317" uses c, .*give http\(s\):\/\/HOST:PORT/,
    );
    expect(() => tracesUrl('http://u:secret@c:4318')).toThrow(/holds credentials/);
  });
});
