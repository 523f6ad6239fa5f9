/**
 * Checks a decoded ModelInferRequest as the REST layer checks JSON: datatypes, shapes, element
 * counts and raw_input_contents sizes, so a bad request gets INVALID_ARGUMENT naming the input
 * instead of reaching the model.
 */
import { checkRawSize } from './binary.ts';
import { DATATYPES, type Datatype, isDatatype } from './datatypes.ts';
import { GrpcCode, OipError } from './errors.ts';
import { type InferRequestMsg, type TensorContentsMsg, toNumber } from './messages.ts';

const CONTENTS_FIELD: Record<Datatype, keyof TensorContentsMsg | undefined> = {
  BOOL: 'boolContents',
  INT8: 'intContents',
  INT16: 'intContents',
  INT32: 'intContents',
  INT64: 'int64Contents',
  UINT8: 'uintContents',
  UINT16: 'uintContents',
  UINT32: 'uintContents',
  UINT64: 'uint64Contents',
  FP32: 'fp32Contents',
  FP64: 'fp64Contents',
  BYTES: 'bytesContents',
  FP16: undefined,
  BF16: undefined,
};

const FIELD_NAMES: Record<keyof TensorContentsMsg, string> = {
  boolContents: 'bool_contents',
  intContents: 'int_contents',
  int64Contents: 'int64_contents',
  uintContents: 'uint_contents',
  uint64Contents: 'uint64_contents',
  fp32Contents: 'fp32_contents',
  fp64Contents: 'fp64_contents',
  bytesContents: 'bytes_contents',
};

/** Throws OipError(400, INVALID_ARGUMENT) for the first bad input of `req`. */
export function checkInferMessage(req: InferRequestMsg, resource: string): void {
  const bad = (message: string) => new OipError(`${resource}: ${message}`, 400, GrpcCode.INVALID_ARGUMENT);
  if (req.inputs.length === 0) throw bad('inputs must hold at least one tensor');
  const raw = req.rawInputContents ?? [];
  if (raw.length > 0 && raw.length !== req.inputs.length) {
    throw bad(
      `raw_input_contents has ${raw.length} entries for ${req.inputs.length} inputs; send one per input, in order`,
    );
  }
  const seen = new Set<string>();
  for (const [i, t] of req.inputs.entries()) {
    const name = t.name || `inputs[${i}]`;
    if (!t.name) throw bad(`inputs[${i}] has no name`);
    if (seen.has(t.name)) throw bad(`input "${name}" appears twice; names must be unique`);
    seen.add(t.name);
    if (!isDatatype(t.datatype))
      throw bad(`input "${name}": datatype "${t.datatype}" is not one of ${DATATYPES.join(', ')}`);
    const shape = t.shape.map(toNumber);
    if (shape.some((d) => !Number.isSafeInteger(d) || d < 0))
      throw bad(`input "${name}": shape ${JSON.stringify(shape)} must hold non-negative integers`);
    if (raw.length > 0) {
      if (filledFields(t.contents).length > 0)
        throw bad(`input "${name}": send its data either in contents or in raw_input_contents, not both`);
      checkRawSize(name, t.datatype, shape, raw[i], resource);
      continue;
    }
    checkContents(name, t.datatype, shape, t.contents, bad);
  }
}

function checkContents(
  name: string,
  datatype: Datatype,
  shape: number[],
  contents: TensorContentsMsg | null | undefined,
  bad: (message: string) => OipError,
): void {
  const field = CONTENTS_FIELD[datatype];
  const filled = filledFields(contents);
  if (!field) throw bad(`input "${name}": ${datatype} data can only be sent in raw_input_contents`);
  const wrong = filled.find((f) => f !== field);
  if (wrong) {
    throw bad(
      `input "${name}": ${datatype} data goes in contents.${FIELD_NAMES[field]}, not contents.${FIELD_NAMES[wrong]}`,
    );
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const sent = (contents?.[field] as unknown[] | undefined)?.length ?? 0;
  if (sent !== count) {
    throw bad(
      `input "${name}": shape ${JSON.stringify(shape)} holds ${count} elements but contents.${FIELD_NAMES[field]} has ${sent}; make them agree`,
    );
  }
}

function filledFields(contents: TensorContentsMsg | null | undefined): (keyof TensorContentsMsg)[] {
  if (!contents) return [];
  return (Object.keys(FIELD_NAMES) as (keyof TensorContentsMsg)[]).filter(
    (f) => ((contents[f] as unknown[] | undefined)?.length ?? 0) > 0,
  );
}
