import type { Datatype } from './datatypes.ts';
import { OipError } from './errors.ts';
import type { JsonInferRequest, JsonInferResponse, JsonParameters, JsonTensor } from './json-types.ts';
import {
  type InferParameterMsg,
  type InferRequestMsg,
  type InferResponseMsg,
  type ParametersMsg,
  type TensorContentsMsg,
  type TensorMsg,
  toNumber,
} from './messages.ts';
import { flattenInto } from './validate.ts';

/** A validated JSON inference request → ModelInferRequest (typed contents, no raw bytes). */
export function jsonRequestToMessage(req: JsonInferRequest, modelName: string): InferRequestMsg {
  return {
    modelName,
    id: req.id ?? '',
    parameters: parametersToMessage(req.parameters),
    inputs: req.inputs.map(jsonTensorToMessage),
    outputs: (req.outputs ?? []).map((o) => ({
      name: o.name,
      parameters: parametersToMessage(o.parameters),
    })),
  };
}

export function jsonResponseToMessage(res: JsonInferResponse): InferResponseMsg {
  return {
    modelName: res.model_name,
    modelVersion: res.model_version ?? '',
    id: res.id ?? '',
    parameters: parametersToMessage(res.parameters),
    outputs: res.outputs.map(jsonTensorToMessage),
  };
}

export function messageToJsonResponse(msg: InferResponseMsg): JsonInferResponse {
  const out: JsonInferResponse = {
    model_name: msg.modelName ?? '',
    outputs: msg.outputs.map((t, i) => messageTensorToJson(t, msg.rawOutputContents?.[i])),
  };
  if (msg.modelVersion) out.model_version = msg.modelVersion;
  if (msg.id) out.id = msg.id;
  const params = parametersToJson(msg.parameters);
  if (params) out.parameters = params;
  return out;
}

export function messageToJsonRequest(msg: InferRequestMsg): JsonInferRequest {
  const out: JsonInferRequest = {
    inputs: msg.inputs.map((t, i) => messageTensorToJson(t, msg.rawInputContents?.[i])),
  };
  if (msg.id) out.id = msg.id;
  const params = parametersToJson(msg.parameters);
  if (params) out.parameters = params;
  if (msg.outputs?.length) out.outputs = msg.outputs.map((o) => ({ name: o.name }));
  return out;
}

function jsonTensorToMessage(t: JsonTensor): TensorMsg {
  const flat: unknown[] = [];
  flattenInto(t.data, flat);
  return {
    name: t.name,
    datatype: t.datatype,
    shape: t.shape,
    parameters: parametersToMessage(t.parameters),
    contents: contentsFor(t.datatype, flat, t.name),
  };
}

function contentsFor(datatype: Datatype, flat: unknown[], name: string): TensorContentsMsg {
  const nums = () => flat.map((v) => (typeof v === 'string' ? Number(v) : (v as number)));
  switch (datatype) {
    case 'BOOL':
      return { boolContents: flat as boolean[] };
    case 'INT8':
    case 'INT16':
    case 'INT32':
      return { intContents: flat as number[] };
    case 'INT64':
      return { int64Contents: flat as number[] };
    case 'UINT8':
    case 'UINT16':
    case 'UINT32':
      return { uintContents: flat as number[] };
    case 'UINT64':
      return { uint64Contents: flat as number[] };
    case 'FP32':
      return { fp32Contents: nums() };
    case 'FP64':
      return { fp64Contents: nums() };
    case 'BYTES':
      return { bytesContents: flat.map((v) => Buffer.from(String(v), 'utf8')) };
    default:
      // FP16/BF16 have no typed protobuf contents; they would need raw bytes.
      throw new OipError(
        `tensor "${name}": datatype ${datatype} cannot be sent as JSON data over protobuf; use FP32 or the gRPC endpoint with raw contents`,
        400,
      );
  }
}

function messageTensorToJson(t: TensorMsg, raw: Uint8Array | undefined): JsonTensor {
  const out: JsonTensor = {
    name: t.name,
    shape: t.shape.map(toNumber),
    datatype: t.datatype as Datatype,
    data: raw && raw.length > 0 ? decodeRaw(t.datatype as Datatype, raw) : contentsToArray(t.contents),
  };
  const params = parametersToJson(t.parameters);
  if (params) out.parameters = params;
  return out;
}

function contentsToArray(c: TensorContentsMsg | null | undefined): unknown[] {
  if (!c) return [];
  if (c.boolContents?.length) return c.boolContents;
  if (c.intContents?.length) return c.intContents;
  if (c.int64Contents?.length) return c.int64Contents.map(toNumber);
  if (c.uintContents?.length) return c.uintContents;
  if (c.uint64Contents?.length) return c.uint64Contents.map(toNumber);
  if (c.fp32Contents?.length) return c.fp32Contents;
  if (c.fp64Contents?.length) return c.fp64Contents;
  if (c.bytesContents?.length) return c.bytesContents.map((b) => Buffer.from(b).toString('utf8'));
  return [];
}

/** Decodes raw little-endian, row-major tensor bytes (BYTES: 4-byte length prefix per element). */
export function decodeRaw(datatype: Datatype, raw: Uint8Array): unknown[] {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out: unknown[] = [];
  if (datatype === 'BYTES') {
    for (let pos = 0; pos + 4 <= raw.length; ) {
      const len = view.getUint32(pos, true);
      out.push(Buffer.from(raw.buffer, raw.byteOffset + pos + 4, len).toString('utf8'));
      pos += 4 + len;
    }
    return out;
  }
  const readers: Record<Exclude<Datatype, 'BYTES'>, [number, (at: number) => unknown]> = {
    BOOL: [1, (at) => view.getUint8(at) !== 0],
    UINT8: [1, (at) => view.getUint8(at)],
    UINT16: [2, (at) => view.getUint16(at, true)],
    UINT32: [4, (at) => view.getUint32(at, true)],
    UINT64: [8, (at) => Number(view.getBigUint64(at, true))],
    INT8: [1, (at) => view.getInt8(at)],
    INT16: [2, (at) => view.getInt16(at, true)],
    INT32: [4, (at) => view.getInt32(at, true)],
    INT64: [8, (at) => Number(view.getBigInt64(at, true))],
    FP16: [2, (at) => halfToFloat(view.getUint16(at, true))],
    BF16: [2, (at) => bf16ToFloat(view.getUint16(at, true))],
    FP32: [4, (at) => view.getFloat32(at, true)],
    FP64: [8, (at) => view.getFloat64(at, true)],
  };
  const [size, read] = readers[datatype];
  for (let at = 0; at + size <= raw.length; at += size) out.push(read(at));
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

function bf16ToFloat(b: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, b << 16);
  return view.getFloat32(0);
}

function parametersToMessage(params: JsonParameters | undefined): ParametersMsg {
  const out: ParametersMsg = {};
  for (const [k, v] of Object.entries(params ?? {})) {
    if (typeof v === 'boolean') out[k] = { boolParam: v };
    else if (typeof v === 'number' && Number.isSafeInteger(v)) out[k] = { int64Param: v };
    else if (typeof v === 'number') out[k] = { doubleParam: v };
    else if (typeof v === 'string') out[k] = { stringParam: v };
    else out[k] = { stringParam: JSON.stringify(v) };
  }
  return out;
}

function parametersToJson(params: ParametersMsg | undefined): JsonParameters | undefined {
  const entries = Object.entries(params ?? {});
  if (entries.length === 0) return undefined;
  const out: JsonParameters = {};
  for (const [k, p] of entries) out[k] = parameterValue(p);
  return out;
}

function parameterValue(p: InferParameterMsg): unknown {
  // Decoded messages carry prototype defaults for every oneof member: only own fields are set.
  if (Object.hasOwn(p, 'stringParam')) return p.stringParam;
  if (Object.hasOwn(p, 'boolParam')) return p.boolParam;
  if (Object.hasOwn(p, 'int64Param') && p.int64Param !== undefined) return toNumber(p.int64Param);
  if (Object.hasOwn(p, 'doubleParam')) return p.doubleParam;
  if (Object.hasOwn(p, 'uint64Param') && p.uint64Param !== undefined) return toNumber(p.uint64Param);
  return null;
}
