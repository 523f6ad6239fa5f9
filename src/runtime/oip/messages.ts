import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/**
 * Decoded OIP protobuf messages (protobufjs camelCase field names). 64-bit integers decode to
 * Long objects; use `toNumber` to read them.
 */
export interface LongLike {
  toNumber(): number;
}
export type Int64 = number | LongLike;

export interface InferParameterMsg {
  boolParam?: boolean;
  int64Param?: Int64;
  stringParam?: string;
  doubleParam?: number;
  uint64Param?: Int64;
}
export type ParametersMsg = Record<string, InferParameterMsg>;

export interface TensorContentsMsg {
  boolContents?: boolean[];
  intContents?: number[];
  int64Contents?: Int64[];
  uintContents?: number[];
  uint64Contents?: Int64[];
  fp32Contents?: number[];
  fp64Contents?: number[];
  bytesContents?: Uint8Array[];
}

export interface TensorMsg {
  name: string;
  datatype: string;
  shape: Int64[];
  parameters?: ParametersMsg;
  contents?: TensorContentsMsg | null;
}

export interface InferRequestMsg {
  modelName?: string;
  modelVersion?: string;
  id?: string;
  parameters?: ParametersMsg;
  inputs: TensorMsg[];
  outputs?: { name: string; parameters?: ParametersMsg }[];
  rawInputContents?: Uint8Array[];
}

export interface InferResponseMsg {
  modelName?: string;
  modelVersion?: string;
  id?: string;
  parameters?: ParametersMsg;
  outputs: TensorMsg[];
  rawOutputContents?: Uint8Array[];
}

const protoPath = fileURLToPath(new URL('../../../proto/inference.proto', import.meta.url));
const root = protobuf.loadSync(protoPath);

export const types = {
  ModelInferRequest: root.lookupType('inference.ModelInferRequest'),
  ModelInferResponse: root.lookupType('inference.ModelInferResponse'),
  ModelReadyRequest: root.lookupType('inference.ModelReadyRequest'),
  ModelReadyResponse: root.lookupType('inference.ModelReadyResponse'),
  ModelMetadataRequest: root.lookupType('inference.ModelMetadataRequest'),
  ModelMetadataResponse: root.lookupType('inference.ModelMetadataResponse'),
  ServerLiveResponse: root.lookupType('inference.ServerLiveResponse'),
  ServerReadyResponse: root.lookupType('inference.ServerReadyResponse'),
  ServerMetadataResponse: root.lookupType('inference.ServerMetadataResponse'),
};

export function toNumber(v: Int64): number {
  return typeof v === 'number' ? v : v.toNumber();
}

export function encodeRequest(msg: InferRequestMsg): Buffer {
  return asBuffer(types.ModelInferRequest.encode(msg).finish());
}

export function decodeRequest(bytes: Uint8Array): InferRequestMsg {
  return types.ModelInferRequest.decode(bytes) as unknown as InferRequestMsg;
}

export function encodeResponse(msg: InferResponseMsg): Buffer {
  return asBuffer(types.ModelInferResponse.encode(msg).finish());
}

export function decodeResponse(bytes: Uint8Array): InferResponseMsg {
  return types.ModelInferResponse.decode(bytes) as unknown as InferResponseMsg;
}

export function encodeMessage(type: protobuf.Type, value: Record<string, unknown>): Buffer {
  return asBuffer(type.encode(type.fromObject(value)).finish());
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
