import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeRestRequest, encodeRaw, encodeRestResponse } from '../../../src/runtime/oip/binary.ts';
import { decodeContent, grpcMessage, pickEncoding } from '../../../src/runtime/oip/compression.ts';
import { decodeRaw } from '../../../src/runtime/oip/convert.ts';
import { upstreamErrorMessage } from '../../../src/runtime/oip/errors.ts';
import { checkInferMessage } from '../../../src/runtime/oip/grpc-validate.ts';

/** A binary-extension body as tritonclient builds it: JSON header, then the raw tensors. */
function binaryBody(header: unknown, ...raw: Buffer[]): { body: Buffer; length: string } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...raw]), length: String(json.length) };
}

describe('binary tensor extension', () => {
  it('inlines binary inputs and reads which outputs the client wants raw', () => {
    const raw = Buffer.alloc(16);
    raw.writeDoubleLE(1.5, 0);
    raw.writeDoubleLE(-2, 8);
    const { body, length } = binaryBody(
      {
        inputs: [
          { name: 'x', shape: [1, 2], datatype: 'FP64', parameters: { binary_data_size: 16 } },
          { name: 'y', shape: [1], datatype: 'INT32', data: [3] },
        ],
        parameters: { binary_data_output: true },
      },
      raw,
    );
    const decoded = decodeRestRequest(body, length, 'm');
    expect(decoded.request.inputs[0]).toEqual({
      name: 'x',
      shape: [1, 2],
      datatype: 'FP64',
      data: [1.5, -2],
    });
    expect(decoded.request.parameters).toBeUndefined();
    expect(decoded.converted).toBe(true);
    expect(decoded.binaryOutputs?.('anything')).toBe(true);
  });

  it('leaves plain JSON alone and honours per-output binary_data', () => {
    const body = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }],
        outputs: [{ name: 'a', parameters: { binary_data: true } }, { name: 'b' }],
      }),
    );
    const plain = decodeRestRequest(
      Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] })),
      undefined,
      'm',
    );
    expect(plain.converted).toBe(false);
    expect(plain.binaryOutputs).toBeUndefined();
    const decoded = decodeRestRequest(body, undefined, 'm');
    expect(decoded.binaryOutputs?.('a')).toBe(true);
    expect(decoded.binaryOutputs?.('b')).toBe(false);
    expect(decoded.request.outputs).toEqual([{ name: 'a' }, { name: 'b' }]);
  });

  it('refuses sizes that do not match the shape, naming the input', () => {
    const { body, length } = binaryBody(
      { inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP64', parameters: { binary_data_size: 16 } }] },
      Buffer.alloc(16),
    );
    expect(() => decodeRestRequest(body, length, 'iris')).toThrow(
      /iris: input "x": 16 bytes of FP64 data, but shape \[1,3\] needs 24/,
    );
    const short = binaryBody(
      { inputs: [{ name: 'x', shape: [2], datatype: 'FP64', parameters: { binary_data_size: 16 } }] },
      Buffer.alloc(8),
    );
    expect(() => decodeRestRequest(short.body, short.length, 'iris')).toThrow(/runs past the 8 bytes/);
    expect(() => decodeRestRequest(Buffer.from('{}'), '99', 'iris')).toThrow(
      /does not fit a body of 2 bytes/,
    );
  });

  it('encodes the outputs asked for as raw bytes that decode back to the same values', () => {
    const response = {
      model_name: 'm',
      outputs: [
        { name: 'p', shape: [3], datatype: 'INT64' as const, data: [0, 1, 2] },
        { name: 's', shape: [2], datatype: 'BYTES' as const, data: ['a', 'bc'] },
        { name: 'j', shape: [1], datatype: 'FP32' as const, data: [0.5] },
      ],
    };
    const { body, headerLength } = encodeRestResponse(response, (o) => o !== 'j');
    expect(headerLength).toBeDefined();
    const header = JSON.parse(body.subarray(0, headerLength).toString());
    expect(header.outputs[0]).toEqual({
      name: 'p',
      shape: [3],
      datatype: 'INT64',
      parameters: { binary_data_size: 24 },
    });
    expect(header.outputs[2].data).toEqual([0.5]);
    const raw = body.subarray(headerLength);
    expect(decodeRaw('INT64', raw.subarray(0, 24))).toEqual([0, 1, 2]);
    expect(decodeRaw('BYTES', raw.subarray(24))).toEqual(['a', 'bc']);
    expect(encodeRestResponse(response, undefined).headerLength).toBeUndefined();
  });

  it('round-trips every fixed-size datatype through encodeRaw and decodeRaw', () => {
    const cases = [
      ['BOOL', [true, false]],
      ['UINT8', [0, 255]],
      ['INT16', [-3, 300]],
      ['UINT32', [7, 4_000_000_000]],
      ['INT64', [-5, 2 ** 40]],
      ['FP32', [0.25, -8]],
      ['FP64', [Math.PI]],
    ] as const;
    for (const [datatype, data] of cases)
      expect(decodeRaw(datatype, encodeRaw(datatype, [...data]))).toEqual(data);
  });
});

describe('compression', () => {
  it('decodes gzip and deflate request bodies and refuses unknown codings', () => {
    const text = Buffer.from('{"inputs": []}');
    expect(decodeContent(zlib.gzipSync(text), 'gzip', 1000)).toEqual(text);
    expect(decodeContent(zlib.deflateSync(text), 'deflate', 1000)).toEqual(text);
    expect(decodeContent(zlib.deflateRawSync(text), 'deflate', 1000)).toEqual(text);
    expect(() => decodeContent(text, 'br', 1000)).toThrow(/Content-Encoding br is not supported/);
    expect(() => decodeContent(zlib.gzipSync(Buffer.alloc(5000)), 'gzip', 1000)).toThrow(
      /more than 1000 bytes/,
    );
  });

  it('picks gzip or deflate from Accept-Encoding, honouring q=0', () => {
    expect(pickEncoding('gzip, deflate, br')).toBe('gzip');
    expect(pickEncoding('deflate')).toBe('deflate');
    expect(pickEncoding('gzip;q=0, deflate')).toBe('deflate');
    expect(pickEncoding('identity')).toBeUndefined();
  });

  it('decompresses gRPC messages per grpc-encoding', () => {
    const msg = Buffer.from('hello');
    expect(grpcMessage(1, zlib.gzipSync(msg), 'gzip', 100)).toEqual(msg);
    expect(grpcMessage(0, msg, undefined, 100)).toBe(msg);
    expect(() => grpcMessage(1, msg, 'snappy', 100)).toThrow(/grpc-encoding snappy/);
  });
});

describe('gRPC request checks', () => {
  const tensor = (over: object) => ({
    name: 'x',
    datatype: 'FP32',
    shape: [2],
    contents: { fp32Contents: [1, 2] },
    ...over,
  });
  it('accepts a well-formed request', () => {
    expect(() => checkInferMessage({ inputs: [tensor({})] }, 'm')).not.toThrow();
    expect(() =>
      checkInferMessage({ inputs: [tensor({ contents: null })], rawInputContents: [new Uint8Array(8)] }, 'm'),
    ).not.toThrow();
  });

  it.each([
    [{ datatype: 'FP33' }, /input "x": datatype "FP33" is not one of/],
    [{ shape: [3] }, /input "x": shape \[3\] holds 3 elements but contents.fp32_contents has 2/],
    [
      { contents: { intContents: [1, 2] } },
      /FP32 data goes in contents.fp32_contents, not contents.int_contents/,
    ],
    [{ datatype: 'FP16' }, /FP16 data can only be sent in raw_input_contents/],
  ])('refuses %j with INVALID_ARGUMENT naming the input', (over, message) => {
    expect(() => checkInferMessage({ inputs: [tensor(over)] }, 'm')).toThrow(
      expect.objectContaining({ grpcCode: 3, message: expect.stringMatching(message) }),
    );
  });

  it('checks raw_input_contents sizes and counts', () => {
    const raw = (n: number) => ({
      inputs: [tensor({ contents: null })],
      rawInputContents: [new Uint8Array(n)],
    });
    expect(() => checkInferMessage(raw(12), 'm')).toThrow(
      /input "x": 12 bytes of FP32 data, but shape \[2\] needs 8/,
    );
    expect(() =>
      checkInferMessage(
        { inputs: [tensor({}), tensor({ name: 'y' })], rawInputContents: [new Uint8Array(8)] },
        'm',
      ),
    ).toThrow(/raw_input_contents has 1 entries for 2 inputs/);
  });
});

describe('upstream errors', () => {
  it('keeps OIP error text, summarises FastAPI detail and reduces a traceback to its exception', () => {
    expect(upstreamErrorMessage(400, Buffer.from('{"error":"bad input"}'), 'model "m"')).toBe('bad input');
    expect(
      upstreamErrorMessage(
        422,
        Buffer.from('{"detail":[{"loc":["body","inputs"],"msg":"field required"}]}'),
        'model "m"',
      ),
    ).toBe('model "m": body.inputs: field required');
    const trace = 'Traceback (most recent call last):\n  File "x.py", line 1\nValueError: X has 3 features\n';
    expect(upstreamErrorMessage(500, Buffer.from(trace), 'model "m"')).toBe(
      'model "m": ValueError: X has 3 features',
    );
    expect(upstreamErrorMessage(500, Buffer.alloc(0), 'model "m"')).toBe(
      'model "m": the model server answered 500',
    );
  });
});
