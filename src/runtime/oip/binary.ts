/**
 * The OIP REST binary tensor extension: a JSON header of `Inference-Header-Content-Length` bytes
 * followed by the raw tensors of the inputs (or outputs) whose parameters carry `binary_data_size`.
 * tritonclient and the KServe SDK send it by default; MLServer does not accept it, so requests are
 * turned into plain JSON here and responses back into binary when the client asked for that.
 */

import { decodeRaw } from './convert.ts';
import { DATATYPE_SIZES, type Datatype, isDatatype } from './datatypes.ts';
import { OipError } from './errors.ts';
import type { JsonInferRequest, JsonInferResponse, JsonParameters, JsonTensor } from './json-types.ts';
import { checkInferRequest, checkJsonDepth, flattenInto, formatProblems } from './validate.ts';

export const HEADER_LENGTH = 'inference-header-content-length';
const BINARY_SIZE = 'binary_data_size';

/** Which outputs the client wants as raw bytes (undefined: none, plain JSON answers). */
export type BinaryOutputs = ((output: string) => boolean) | undefined;

export interface DecodedRequest {
  request: JsonInferRequest;
  binaryOutputs: BinaryOutputs;
  /** True when the body differs from plain OIP JSON (binary inputs or binary-output parameters). */
  converted: boolean;
}

/**
 * Parses a REST inference body, binary-extension or JSON, into a checked JSON request with every
 * tensor's data inline and the binary-output parameters taken out. `headerLength` is the
 * `Inference-Header-Content-Length` value, when sent.
 */
export function decodeRestRequest(
  body: Buffer,
  headerLength: string | undefined,
  resource: string,
): DecodedRequest {
  const jsonLength = headerLength === undefined ? body.length : Number(headerLength);
  if (!Number.isSafeInteger(jsonLength) || jsonLength < 0 || jsonLength > body.length) {
    throw new OipError(
      `${resource}: Inference-Header-Content-Length ${headerLength} does not fit a body of ${body.length} bytes; send the length of the JSON header`,
      400,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8', 0, jsonLength));
  } catch (err) {
    throw new OipError(
      `${resource}: request body is not valid JSON (${(err as Error).message}); send an OIP inference request object`,
      400,
    );
  }
  checkJsonDepth(value, resource);
  let converted = jsonLength !== body.length;
  if (converted) inlineBinaryInputs(value, body.subarray(jsonLength), resource);
  const problems = checkInferRequest(value);
  if (problems.length > 0)
    throw new OipError(`${resource}: invalid inference request: ${formatProblems(problems)}`, 400);
  const request = value as JsonInferRequest;
  const binaryOutputs = takeBinaryOutputs(request);
  if (binaryOutputs) converted = true;
  return { request, binaryOutputs, converted };
}

/** Puts the raw bytes of each binary input into its `data`, checking their size against the shape. */
function inlineBinaryInputs(value: unknown, raw: Buffer, resource: string): void {
  const inputs = (value as { inputs?: unknown })?.inputs;
  if (!Array.isArray(inputs)) return;
  let pos = 0;
  for (const [i, input] of inputs.entries()) {
    const t = input as Partial<JsonTensor> | null;
    const size = t?.parameters?.[BINARY_SIZE];
    if (size === undefined || t === null) continue;
    const name = typeof t.name === 'string' ? t.name : `inputs[${i}]`;
    if (!Number.isSafeInteger(size) || (size as number) < 0 || pos + (size as number) > raw.length) {
      throw new OipError(
        `${resource}: input "${name}": binary_data_size ${size} runs past the ${raw.length} bytes of binary data; send the tensor's byte length`,
        400,
      );
    }
    const bytes = raw.subarray(pos, pos + (size as number));
    pos += size as number;
    if (!isDatatype(t.datatype) || !Array.isArray(t.shape)) continue; // the check below names it
    checkRawSize(name, t.datatype, t.shape, bytes, resource);
    t.data = decodeRaw(t.datatype, bytes);
    t.parameters = withoutKeys(t.parameters as JsonParameters, [BINARY_SIZE]);
  }
  if (pos !== raw.length) {
    throw new OipError(
      `${resource}: ${raw.length - pos} bytes of binary data follow the inputs' binary_data_size total; send exactly the tensors' bytes`,
      400,
    );
  }
}

/** Raw bytes must hold exactly the elements the shape says (BYTES: length-prefixed elements). */
export function checkRawSize(
  name: string,
  datatype: Datatype,
  shape: readonly number[],
  bytes: Uint8Array,
  resource: string,
): void {
  const count = shape.reduce((a, b) => a * b, 1);
  const size = DATATYPE_SIZES[datatype];
  if (size > 0) {
    if (bytes.length !== count * size) {
      throw new OipError(
        `${resource}: input "${name}": ${bytes.length} bytes of ${datatype} data, but shape ${JSON.stringify(shape)} needs ${count * size}; make them agree`,
        400,
      );
    }
    return;
  }
  let elements = 0;
  let pos = 0;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  while (pos + 4 <= view.length) {
    pos += 4 + view.readUInt32LE(pos);
    elements++;
  }
  if (pos !== view.length || elements !== count) {
    throw new OipError(
      `${resource}: input "${name}": BYTES data holds ${elements} length-prefixed elements${pos !== view.length ? ' and a truncated one' : ''}, but shape ${JSON.stringify(shape)} needs ${count}`,
      400,
    );
  }
}

/** Reads and removes `binary_data_output` / outputs' `binary_data`, which only this layer acts on. */
function takeBinaryOutputs(request: JsonInferRequest): BinaryOutputs {
  const all = request.parameters?.binary_data_output === true;
  if (request.parameters && 'binary_data_output' in request.parameters)
    request.parameters = withoutKeys(request.parameters, ['binary_data_output']);
  const named = new Map<string, boolean>();
  for (const o of request.outputs ?? []) {
    if (o.parameters && 'binary_data' in o.parameters) {
      named.set(o.name, o.parameters.binary_data === true);
      o.parameters = withoutKeys(o.parameters, ['binary_data']);
    }
  }
  if (!all && ![...named.values()].some(Boolean)) return undefined;
  return (output) => named.get(output) ?? all;
}

function withoutKeys(params: JsonParameters, keys: string[]): JsonParameters | undefined {
  const out: JsonParameters = {};
  for (const [k, v] of Object.entries(params)) if (!keys.includes(k)) out[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

export interface EncodedResponse {
  body: Buffer;
  /** Set when the body uses the binary extension (then the content type is octet-stream). */
  headerLength?: number;
}

/**
 * A JSON inference response with the outputs the client asked for as raw bytes. FP16/BF16
 * outputs stay JSON: a JSON number cannot say which half-precision bits it came from.
 */
export function encodeRestResponse(response: JsonInferResponse, binary: BinaryOutputs): EncodedResponse {
  if (!binary) return { body: Buffer.from(JSON.stringify(response)) };
  const parts: Buffer[] = [];
  const outputs = response.outputs.map((t) => {
    if (!binary(t.name) || t.datatype === 'FP16' || t.datatype === 'BF16' || !isDatatype(t.datatype))
      return t;
    const raw = encodeRaw(t.datatype, t.data);
    parts.push(raw);
    const { data: _inline, ...rest } = t;
    return { ...rest, parameters: { ...(t.parameters ?? {}), [BINARY_SIZE]: raw.length } };
  });
  if (parts.length === 0) return { body: Buffer.from(JSON.stringify(response)) };
  const header = Buffer.from(JSON.stringify({ ...response, outputs }));
  return { body: Buffer.concat([header, ...parts]), headerLength: header.length };
}

/** JSON tensor data as raw little-endian, row-major bytes (BYTES: 4-byte length per element). */
export function encodeRaw(datatype: Exclude<Datatype, 'FP16' | 'BF16'>, data: unknown[]): Buffer {
  const flat: unknown[] = [];
  flattenInto(data, flat);
  if (datatype === 'BYTES') {
    const parts = flat.map((v) => Buffer.from(String(v), 'utf8'));
    const out = Buffer.allocUnsafe(parts.reduce((n, p) => n + 4 + p.length, 0));
    let pos = 0;
    for (const p of parts) {
      out.writeUInt32LE(p.length, pos);
      out.set(p, pos + 4);
      pos += 4 + p.length;
    }
    return out;
  }
  const size = DATATYPE_SIZES[datatype];
  const out = Buffer.alloc(flat.length * size);
  const num = (v: unknown) => (typeof v === 'string' ? Number(v) : Number(v));
  const writers: Record<typeof datatype, (v: unknown, at: number) => void> = {
    BOOL: (v, at) => out.writeUInt8(v ? 1 : 0, at),
    UINT8: (v, at) => out.writeUInt8(num(v), at),
    UINT16: (v, at) => out.writeUInt16LE(num(v), at),
    UINT32: (v, at) => out.writeUInt32LE(num(v), at),
    UINT64: (v, at) => out.writeBigUInt64LE(BigInt(num(v)), at),
    INT8: (v, at) => out.writeInt8(num(v), at),
    INT16: (v, at) => out.writeInt16LE(num(v), at),
    INT32: (v, at) => out.writeInt32LE(num(v), at),
    INT64: (v, at) => out.writeBigInt64LE(BigInt(num(v)), at),
    FP32: (v, at) => out.writeFloatLE(num(v), at),
    FP64: (v, at) => out.writeDoubleLE(num(v), at),
  };
  const write = writers[datatype];
  for (let i = 0; i < flat.length; i++) write(flat[i], i * size);
  return out;
}
