import type { TopicIo } from '../../spec/topics.ts';
import type { Datatype } from '../oip/datatypes.ts';
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  type ParametersMsg,
  type TensorContentsMsg,
  type TensorMsg,
  toNumber,
} from '../oip/messages.ts';

/** One tensor as it moves between steps: its metadata plus either typed contents or raw bytes. */
export interface Tensor {
  msg: TensorMsg;
  raw?: Uint8Array;
}

/** A request or response reduced to what the dataflow works on. */
export interface Payload {
  id: string;
  parameters?: ParametersMsg;
  tensors: Tensor[];
}

export function decodePayload(io: TopicIo, bytes: Uint8Array): Payload {
  if (io === 'inputs') {
    const m = decodeRequest(bytes);
    return { id: m.id ?? '', parameters: m.parameters, tensors: withRaw(m.inputs, m.rawInputContents) };
  }
  const m = decodeResponse(bytes);
  return { id: m.id ?? '', parameters: m.parameters, tensors: withRaw(m.outputs, m.rawOutputContents) };
}

function withRaw(tensors: TensorMsg[], raw: Uint8Array[] | undefined): Tensor[] {
  const hasRaw = raw !== undefined && raw.length > 0;
  return tensors.map((msg, i) => (hasRaw ? { msg, raw: raw[i] } : { msg }));
}

/** Encodes for a topic: a ModelInferRequest on `*.inputs`, a ModelInferResponse on `*.outputs`. */
export function encodePayload(io: TopicIo, p: Payload, modelName: string): Buffer {
  // Raw and typed contents cannot be mixed in one message: once any tensor is raw, all are.
  const anyRaw = p.tensors.some((t) => t.raw !== undefined);
  const tensors = p.tensors.map((t) => (anyRaw ? { ...t.msg, contents: null } : t.msg));
  const raw = anyRaw
    ? p.tensors.map((t) => t.raw ?? contentsToRaw(t.msg.datatype as Datatype, t.msg.contents))
    : [];
  if (io === 'inputs') {
    return encodeRequest({
      modelName,
      id: p.id,
      parameters: p.parameters,
      inputs: tensors,
      rawInputContents: raw,
    });
  }
  return encodeResponse({
    modelName,
    id: p.id,
    parameters: p.parameters,
    outputs: tensors,
    rawOutputContents: raw,
  });
}

/** Keeps only the named tensor; undefined when the payload does not have it. */
export function selectTensor(p: Payload, name: string): Payload | undefined {
  const kept = p.tensors.filter((t) => t.msg.name === name);
  return kept.length === 0 ? undefined : { ...p, tensors: kept };
}

export function renameTensors(p: Payload, rename: (name: string) => string | undefined): Payload {
  let changed = false;
  const tensors = p.tensors.map((t) => {
    const to = rename(t.msg.name);
    if (to === undefined || to === t.msg.name) return t;
    changed = true;
    return { ...t, msg: { ...t.msg, name: to } };
  });
  return changed ? { ...p, tensors } : p;
}

/** Joined payloads concatenate their tensor lists and keep the first one's id and parameters. */
export function concatPayloads(parts: Payload[]): Payload {
  return { id: parts[0].id, parameters: parts[0].parameters, tensors: parts.flatMap((p) => p.tensors) };
}

/**
 * Merges requests into one batch: tensors with the same name are concatenated along dimension 0
 * (their other dimensions must agree).
 */
export function batchPayloads(parts: Payload[]): Payload {
  const first = parts[0];
  const tensors = first.tensors.map((t, i) => {
    const all = parts.map((p) => p.tensors.find((x) => x.msg.name === t.msg.name) ?? p.tensors[i]);
    const rest = t.msg.shape.slice(1).map(toNumber).join(',');
    for (const x of all) {
      if (!x || x.msg.shape.slice(1).map(toNumber).join(',') !== rest || x.msg.datatype !== t.msg.datatype) {
        throw new Error(`batch: tensor "${t.msg.name}" differs in datatype or inner shape between requests`);
      }
    }
    const rows = all.reduce((s, x) => s + toNumber(x.msg.shape[0] ?? 1), 0);
    const msg: TensorMsg = { ...t.msg, shape: [rows, ...t.msg.shape.slice(1)] };
    if (all.some((x) => x.raw)) {
      return {
        msg: { ...msg, contents: null },
        raw: Buffer.concat(
          all.map((x) => x.raw ?? contentsToRaw(x.msg.datatype as Datatype, x.msg.contents)),
        ),
      };
    }
    const contents: TensorContentsMsg = {};
    for (const field of CONTENT_FIELDS) {
      const merged = all.flatMap((x) => (x.msg.contents?.[field] as unknown[] | undefined) ?? []);
      if (merged.length) (contents as Record<string, unknown[]>)[field] = merged;
    }
    return { msg: { ...msg, contents } };
  });
  return { id: first.id, parameters: first.parameters, tensors };
}

const CONTENT_FIELDS = [
  'boolContents',
  'intContents',
  'int64Contents',
  'uintContents',
  'uint64Contents',
  'fp32Contents',
  'fp64Contents',
  'bytesContents',
] as const satisfies readonly (keyof TensorContentsMsg)[];

/** Typed contents → raw little-endian bytes (BYTES elements get a 4-byte length prefix). */
export function contentsToRaw(datatype: Datatype, c: TensorContentsMsg | null | undefined): Buffer {
  if (!c) return Buffer.alloc(0);
  if (datatype === 'BYTES') {
    return Buffer.concat(
      (c.bytesContents ?? []).flatMap((b) => {
        const len = Buffer.alloc(4);
        len.writeUInt32LE(b.length);
        return [len, Buffer.from(b)];
      }),
    );
  }
  const writers: Partial<
    Record<
      Datatype,
      [number, (buf: Buffer, v: number | boolean | bigint, at: number) => void, unknown[] | undefined]
    >
  > = {
    BOOL: [1, (b, v, at) => b.writeUInt8(v ? 1 : 0, at), c.boolContents],
    UINT8: [1, (b, v, at) => b.writeUInt8(Number(v), at), c.uintContents],
    UINT16: [2, (b, v, at) => b.writeUInt16LE(Number(v), at), c.uintContents],
    UINT32: [4, (b, v, at) => b.writeUInt32LE(Number(v), at), c.uintContents],
    UINT64: [8, (b, v, at) => b.writeBigUInt64LE(BigInt(v as number), at), c.uint64Contents?.map(toBig)],
    INT8: [1, (b, v, at) => b.writeInt8(Number(v), at), c.intContents],
    INT16: [2, (b, v, at) => b.writeInt16LE(Number(v), at), c.intContents],
    INT32: [4, (b, v, at) => b.writeInt32LE(Number(v), at), c.intContents],
    INT64: [8, (b, v, at) => b.writeBigInt64LE(BigInt(v as number), at), c.int64Contents?.map(toBig)],
    FP32: [4, (b, v, at) => b.writeFloatLE(Number(v), at), c.fp32Contents],
    FP64: [8, (b, v, at) => b.writeDoubleLE(Number(v), at), c.fp64Contents],
  };
  const w = writers[datatype];
  if (!w) throw new Error(`datatype ${datatype} has no typed contents to convert`);
  const [size, write, values = []] = w;
  const buf = Buffer.alloc(size * values.length);
  values.forEach((v, i) => {
    write(buf, v as number, i * size);
  });
  return buf;
}

function toBig(v: number | { toString(): string }): bigint {
  return BigInt(typeof v === 'number' ? v : v.toString());
}
