import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/errors.ts';
import { runInspect } from '../../src/cli/inspect/command.ts';
import { decodeRecord, formatText, withTensor } from '../../src/cli/inspect/inspect-format.ts';
import { parseInspectPath, topicsFor } from '../../src/cli/inspect/inspect-path.ts';
import type { TopicRecord } from '../../src/cli/inspect/topic-reader.ts';
import { encodeRequest, encodeResponse } from '../../src/runtime/oip/messages.ts';

const naming = { prefix: 'seldon', namespace: 'prod' };

describe('inspect paths', () => {
  it('parses PIPELINE[.STEP[.inputs|outputs[.TENSOR]]]', () => {
    expect(parseInspectPath('fraud')).toEqual({ pipeline: 'fraud' });
    expect(parseInspectPath('fraud.outputs')).toEqual({
      pipeline: 'fraud',
      io: 'outputs',
      tensor: undefined,
    });
    expect(parseInspectPath('fraud.inputs.x')).toEqual({ pipeline: 'fraud', io: 'inputs', tensor: 'x' });
    expect(parseInspectPath('fraud.scorer')).toEqual({ pipeline: 'fraud', step: 'scorer' });
    expect(parseInspectPath('fraud.scorer.outputs.probs')).toEqual({
      pipeline: 'fraud',
      step: 'scorer',
      io: 'outputs',
      tensor: 'probs',
    });
  });

  it('says what a valid path looks like', () => {
    expect(() => parseInspectPath('Fraud')).toThrow(
      /"Fraud" is not a pipeline name; use PIPELINE, PIPELINE.inputs/,
    );
    expect(() => parseInspectPath('fraud.scorer.middle')).toThrow(
      /expected inputs or outputs after the step, got "middle"/,
    );
    expect(() => parseInspectPath('fraud.outputs.a.b')).toThrow(/too many parts after outputs/);
  });

  it('maps paths to topics; model topics are filtered by the pipeline header', () => {
    expect(topicsFor(parseInspectPath('fraud.outputs'), naming, [])).toEqual([
      { topic: 'seldon.prod.pipeline.fraud.outputs', io: 'outputs' },
    ]);
    expect(topicsFor(parseInspectPath('fraud.scorer'), naming, [])).toEqual([
      { topic: 'seldon.prod.model.scorer.inputs', io: 'inputs', pipelineHeader: 'fraud' },
      { topic: 'seldon.prod.model.scorer.outputs', io: 'outputs', pipelineHeader: 'fraud' },
    ]);
    const existing = [
      'seldon.prod.model.b.outputs',
      'seldon.prod.model.a.inputs',
      'seldon.prod.model.a.outputs',
      'seldon.staging.model.c.inputs',
      'seldon.prod.errors.errors',
    ];
    expect(topicsFor(parseInspectPath('fraud'), naming, existing).map((t) => t.topic)).toEqual([
      'seldon.prod.pipeline.fraud.inputs',
      'seldon.prod.model.a.inputs',
      'seldon.prod.model.a.outputs',
      'seldon.prod.model.b.inputs',
      'seldon.prod.model.b.outputs',
      'seldon.prod.pipeline.fraud.outputs',
    ]);
  });
});

function record(topic: string, value: Buffer, headers: Record<string, string> = {}): TopicRecord {
  return {
    topic,
    partition: 0,
    offset: 7,
    timestamp: Date.UTC(2026, 0, 2, 3, 4, 5),
    key: 'k1',
    headers,
    value,
  };
}

describe('decoding records', () => {
  it('decodes requests on inputs topics and responses on outputs topics, raw contents included', () => {
    const req = encodeRequest({
      modelName: 'fraud',
      id: 'r1',
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [1, 2], contents: { fp32Contents: [0.5, 1.5] } },
        { name: 'note', datatype: 'BYTES', shape: [1], contents: { bytesContents: [Buffer.from('hi')] } },
      ],
    });
    const r = decodeRecord(
      record('seldon.prod.pipeline.fraud.inputs', req, { pipeline: 'fraud', 'x-request-id': 'a' }),
    );
    expect(r).toMatchObject({
      topic: 'seldon.prod.pipeline.fraud.inputs',
      timestamp: '2026-01-02T03:04:05.000Z',
      key: 'k1',
      id: 'r1',
      headers: { pipeline: 'fraud', 'x-request-id': 'a' },
    });
    expect(r.tensors?.map((t) => [t.name, t.datatype, t.shape, t.data])).toEqual([
      ['x', 'FP32', [1, 2], [0.5, 1.5]],
      ['note', 'BYTES', [1], ['hi']],
    ]);
    const raw = Buffer.alloc(16);
    raw.writeBigInt64LE(2n, 0);
    raw.writeBigInt64LE(1n, 8);
    const res = encodeResponse({
      modelName: 'iris',
      outputs: [{ name: 'predict', datatype: 'INT64', shape: [2] }],
      rawOutputContents: [raw],
    });
    const out = decodeRecord(record('seldon.prod.model.iris.outputs', res));
    expect(out.tensors?.[0]).toMatchObject({ name: 'predict', data: [2, 1] });
    expect(withTensor(out, 'predict')?.tensors).toHaveLength(1);
    expect(withTensor(out, 'other')).toBeUndefined();
    expect(withTensor(out, undefined)).toBe(out);
  });

  it('shows error records as text', () => {
    const r = decodeRecord(
      record('seldon.prod.pipeline.fraud.outputs', Buffer.from('model failed'), {
        'seldon-pipeline-errors': 'scorer',
      }),
    );
    expect(r.text).toBe('model failed');
    expect(r.tensors).toBeUndefined();
    expect(decodeRecord(record('seldon.prod.errors.errors', Buffer.from('boom'))).text).toBe('boom');
  });

  it('prints tensors readably, long ones cut', () => {
    const res = encodeResponse({
      modelName: 'm',
      outputs: [
        {
          name: 'y',
          datatype: 'FP64',
          shape: [40],
          contents: { fp64Contents: Array.from({ length: 40 }, (_, i) => i) },
        },
      ],
    });
    const text = formatText([decodeRecord(record('seldon.prod.model.m.outputs', res, { pipeline: 'p' }))]);
    expect(text.split('\n')).toEqual([
      'seldon.prod.model.m.outputs [0@7] 2026-01-02T03:04:05.000Z',
      '  key=k1 pipeline=p',
      `  y FP64[40] = [${Array.from({ length: 32 }, (_, i) => i).join(', ')}, … 8 more]`,
    ]);
  });
});

describe('runInspect arguments', () => {
  const opts = {
    namespace: 'default',
    topicPrefix: 'seldon',
    n: '1',
    format: 'text' as const,
    scan: '1000',
    timeoutMs: '1000',
  };

  it('needs Kafka and says why the in-process bus cannot be read', async () => {
    const err = await runInspect('fraud', opts, {}).catch((e) => e);
    expect(err).toBeInstanceOf(CliError);
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(
      /give --kafka HOST:PORT \(or set MLOPS_KAFKA_BROKERS\).*start it with --kafka/,
    );
  });

  it('rejects bad counts and paths before connecting', async () => {
    await expect(runInspect('fraud', { ...opts, n: '0' }, { MLOPS_KAFKA_BROKERS: 'x:1' })).rejects.toThrow(
      '-n "0" must be a positive integer',
    );
    await expect(runInspect('fraud.a.b', opts, { MLOPS_KAFKA_BROKERS: 'x:1' })).rejects.toThrow(
      /expected inputs or outputs/,
    );
  });
});
