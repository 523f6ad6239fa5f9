import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkInferRequest,
  decodeRaw,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  jsonRequestToMessage,
  jsonResponseToMessage,
  messageToJsonRequest,
  messageToJsonResponse,
  OipError,
  parseInferRequest,
  readNameField,
} from '../../../src/runtime/oip/index.ts';

describe('OIP request validation', () => {
  it('accepts nested and flat data of every typed datatype', () => {
    const ok = {
      id: 'x',
      parameters: { content_type: 'np' },
      inputs: [
        {
          name: 'a',
          shape: [2, 2],
          datatype: 'FP32',
          data: [
            [1, 2.5],
            [3, 'NaN'],
          ],
        },
        { name: 'b', shape: [3], datatype: 'INT8', data: [-128, 0, 127] },
        { name: 'c', shape: [1], datatype: 'BYTES', data: ['hello'] },
        { name: 'd', shape: [2], datatype: 'BOOL', data: [true, false] },
        { name: 'e', shape: [0], datatype: 'UINT64', data: [] },
      ],
      outputs: [{ name: 'out' }],
    };
    expect(checkInferRequest(ok)).toEqual([]);
  });

  it('names the resource, field and expectation of every problem', () => {
    const bad = {
      id: 3,
      inputs: [
        { name: '', shape: [-1], datatype: 'FP32', data: [1] },
        { name: 'x', shape: [2], datatype: 'UINT8', data: [1, 256] },
        { name: 'x', shape: [1], datatype: 'BOOL', data: 1 },
      ],
      outputs: [{}],
    };
    const problems = checkInferRequest(bad);
    expect(problems).toContain('id must be a string, got 3');
    expect(problems).toContain('inputs[0].name must be a non-empty string, got ""');
    expect(problems).toContain(
      'inputs[0].shape must be an array of non-negative integers such as [1, 4], got [-1]',
    );
    expect(problems).toContain(
      'inputs[1].data[1] is 256, which is not a valid UINT8 value (an integer from 0 to 255)',
    );
    expect(problems).toContain('inputs[2].name "x" is used twice; names must be unique');
    expect(problems).toContain('inputs[2].data must be an array (nested or flat, row-major), got 1');
    expect(problems).toContain('outputs[0] must be an object with a non-empty "name", got {}');
    expect(() => parseInferRequest(JSON.stringify(bad), 'iris')).toThrow(
      /^iris: invalid inference request: .*\(and 2 more\)$/,
    );
    try {
      parseInferRequest('nope', 'iris');
    } catch (err) {
      expect(err).toBeInstanceOf(OipError);
      expect((err as OipError).status).toBe(400);
      expect((err as OipError).message).toMatch(/^iris: request body is not valid JSON/);
    }
  });

  it('never throws anything but an OipError on arbitrary input', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify({ inputs: [v] })),
        ),
        (text) => {
          try {
            parseInferRequest(text, 'm');
          } catch (err) {
            expect(err).toBeInstanceOf(OipError);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('OIP protobuf codec', () => {
  it('round-trips a JSON request through ModelInferRequest', () => {
    const req = {
      id: 'r1',
      parameters: { a: 1, b: 'two', c: true, d: 0.5 },
      inputs: [
        { name: 'i64', shape: [2, 2], datatype: 'INT64' as const, data: [1, 2, 3, -4] },
        { name: 'f', shape: [2], datatype: 'FP64' as const, data: [0.25, 1e300] },
        { name: 's', shape: [2], datatype: 'BYTES' as const, data: ['a', 'héllo'] },
        { name: 'b', shape: [1], datatype: 'BOOL' as const, data: [true] },
      ],
      outputs: [{ name: 'o' }],
    };
    const bytes = encodeRequest(jsonRequestToMessage(req, 'iris'));
    expect(readNameField(bytes)).toBe('iris');
    expect(messageToJsonRequest(decodeRequest(bytes))).toEqual(req);
  });

  it('round-trips responses and decodes raw little-endian contents', () => {
    const res = {
      model_name: 'm',
      model_version: '1',
      id: 'x',
      outputs: [{ name: 'p', shape: [1, 3], datatype: 'FP32' as const, data: [0.5, 0.25, 0.125] }],
    };
    expect(messageToJsonResponse(decodeResponse(encodeResponse(jsonResponseToMessage(res))))).toEqual(res);
    const raw = Buffer.alloc(8);
    raw.writeInt32LE(-5, 0);
    raw.writeInt32LE(9, 4);
    expect(decodeRaw('INT32', raw)).toEqual([-5, 9]);
    const bytes = Buffer.concat([Buffer.from([2, 0, 0, 0]), Buffer.from('hi'), Buffer.from([0, 0, 0, 0])]);
    expect(decodeRaw('BYTES', bytes)).toEqual(['hi', '']);
    expect(decodeRaw('FP16', Buffer.from([0x00, 0x3c, 0x00, 0xc0]))).toEqual([1, -2]);
    expect(decodeRaw('BF16', Buffer.from([0x80, 0x3f]))).toEqual([1]);
    const msg = decodeResponse(
      encodeResponse({
        modelName: 'm',
        outputs: [{ name: 'r', datatype: 'INT32', shape: [2] }],
        rawOutputContents: [raw],
      }),
    );
    expect(messageToJsonResponse(msg).outputs[0].data).toEqual([-5, 9]);
  });

  it('reads the name field without decoding and tolerates garbage', () => {
    expect(readNameField(Buffer.from([0x0a, 0x02, 0x68, 0x69]))).toBe('hi');
    expect(readNameField(Buffer.from([0x12, 0x01, 0x41, 0x0a, 0x01, 0x42]))).toBe('B');
    expect(readNameField(Buffer.from([0xff, 0xff]))).toBeUndefined();
    expect(readNameField(Buffer.from([0x0a, 0x09, 0x68]))).toBeUndefined();
  });

  it('rejects FP16 JSON data on the protobuf path with a clear error', () => {
    expect(() =>
      jsonRequestToMessage({ inputs: [{ name: 'h', shape: [1], datatype: 'FP16', data: [1] }] }, 'm'),
    ).toThrow(/datatype FP16 cannot be sent as JSON data over protobuf/);
  });
});
