/** OIP tensor datatypes with their element size in bytes (0 = variable, BYTES). */
export const DATATYPE_SIZES = {
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  BF16: 2,
  FP32: 4,
  FP64: 8,
  BYTES: 0,
} as const;

export type Datatype = keyof typeof DATATYPE_SIZES;
export const DATATYPES = Object.keys(DATATYPE_SIZES) as Datatype[];

export function isDatatype(value: unknown): value is Datatype {
  return typeof value === 'string' && Object.hasOwn(DATATYPE_SIZES, value);
}

/** Integer ranges for the typed integer datatypes (64-bit ones limited to what JSON numbers hold). */
export const INTEGER_RANGES: Partial<Record<Datatype, readonly [number, number]>> = {
  UINT8: [0, 0xff],
  UINT16: [0, 0xffff],
  UINT32: [0, 0xffffffff],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
  INT8: [-0x80, 0x7f],
  INT16: [-0x8000, 0x7fff],
  INT32: [-0x80000000, 0x7fffffff],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};
