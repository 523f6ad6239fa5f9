import { DATATYPES, type Datatype, INTEGER_RANGES, isDatatype } from './datatypes.ts';
import { OipError } from './errors.ts';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './json-depth.ts';
import type { JsonInferRequest } from './json-types.ts';

const MAX_REPORTED = 5;

/**
 * Parses and checks an OIP REST inference request body. Throws an OipError (400) that names the
 * resource, every bad field (up to a few) and what a valid value looks like.
 */
export function parseInferRequest(body: Buffer | string, resource: string): JsonInferRequest {
  let value: unknown;
  try {
    value = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch (err) {
    throw new OipError(
      `${resource}: request body is not valid JSON (${(err as Error).message}); send an OIP inference request object`,
      400,
    );
  }
  checkJsonDepth(value, resource);
  const problems = checkInferRequest(value);
  if (problems.length > 0)
    throw new OipError(`${resource}: invalid inference request: ${formatProblems(problems)}`, 400);
  return value as JsonInferRequest;
}

/** Refuses a parsed request body nested deeper than `MAX_JSON_DEPTH` (400, naming the limit). */
export function checkJsonDepth(value: unknown, resource: string): void {
  if (!jsonDepthExceeds(value)) return;
  throw new OipError(
    `${resource}: request JSON nests deeper than ${MAX_JSON_DEPTH} levels, the limit; tensor data nests once per dimension, or send it flat with its shape`,
    400,
  );
}

/** The first few problems, and how many more there are. */
export function formatProblems(problems: readonly string[]): string {
  const shown = problems.slice(0, MAX_REPORTED).join('; ');
  const more = problems.length > MAX_REPORTED ? ` (and ${problems.length - MAX_REPORTED} more)` : '';
  return shown + more;
}

/** Returns one message per problem found in an OIP inference request; empty when valid. */
export function checkInferRequest(value: unknown): string[] {
  const problems: string[] = [];
  if (!isPlainObject(value)) {
    return [`body must be a JSON object with an "inputs" array, got ${describe(value)}`];
  }
  if (value.id !== undefined && typeof value.id !== 'string') {
    problems.push(`id must be a string, got ${describe(value.id)}`);
  }
  if (value.parameters !== undefined && !isPlainObject(value.parameters)) {
    problems.push(`parameters must be an object, got ${describe(value.parameters)}`);
  }
  const inputs = value.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) {
    problems.push(`inputs must be a non-empty array of tensors, got ${describe(inputs)}`);
  } else {
    const seen = new Set<string>();
    inputs.forEach((tensor, i) => {
      checkTensor(tensor, `inputs[${i}]`, problems);
      if (isPlainObject(tensor) && typeof tensor.name === 'string') {
        if (seen.has(tensor.name))
          problems.push(`inputs[${i}].name "${tensor.name}" is used twice; names must be unique`);
        seen.add(tensor.name);
      }
    });
  }
  if (value.outputs !== undefined) {
    if (!Array.isArray(value.outputs)) {
      problems.push(`outputs must be an array of {"name": string}, got ${describe(value.outputs)}`);
    } else {
      value.outputs.forEach((out, i) => {
        if (!isPlainObject(out) || typeof out.name !== 'string' || out.name === '') {
          problems.push(`outputs[${i}] must be an object with a non-empty "name", got ${describe(out)}`);
        } else if (out.parameters !== undefined && !isPlainObject(out.parameters)) {
          problems.push(`outputs[${i}].parameters must be an object, got ${describe(out.parameters)}`);
        }
      });
    }
  }
  return problems;
}

function checkTensor(tensor: unknown, at: string, problems: string[]): void {
  if (!isPlainObject(tensor)) {
    problems.push(`${at} must be an object with name, shape, datatype and data, got ${describe(tensor)}`);
    return;
  }
  if (typeof tensor.name !== 'string' || tensor.name === '') {
    problems.push(`${at}.name must be a non-empty string, got ${describe(tensor.name)}`);
  }
  const shape = tensor.shape;
  const shapeOk =
    Array.isArray(shape) && shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0);
  if (!shapeOk) {
    problems.push(
      `${at}.shape must be an array of non-negative integers such as [1, 4], got ${describe(shape)}`,
    );
  }
  const datatype = tensor.datatype;
  if (!isDatatype(datatype)) {
    problems.push(`${at}.datatype must be one of ${DATATYPES.join(', ')}, got ${describe(datatype)}`);
  }
  if (tensor.parameters !== undefined && !isPlainObject(tensor.parameters)) {
    problems.push(`${at}.parameters must be an object, got ${describe(tensor.parameters)}`);
  }
  if (!Array.isArray(tensor.data)) {
    problems.push(`${at}.data must be an array (nested or flat, row-major), got ${describe(tensor.data)}`);
    return;
  }
  if (!isDatatype(datatype)) return;
  // Counted in place: a copy of every element would double a large request's memory.
  let leaves = 0;
  let bad: { index: number; value: unknown } | undefined;
  forEachLeaf(tensor.data, (v) => {
    if (bad === undefined && !elementFits(datatype, v)) bad = { index: leaves, value: v };
    leaves++;
  });
  if (bad) {
    problems.push(
      `${at}.data[${bad.index}] is ${describe(bad.value)}, which is not a valid ${datatype} value (${expected(datatype)})`,
    );
  }
  if (shapeOk) {
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (count !== leaves) {
      problems.push(
        `${at}: shape ${JSON.stringify(shape)} holds ${count} elements but data has ${leaves}; make them agree`,
      );
    }
  }
}

/** Appends the non-array elements of nested arrays to `out`, row-major. */
export function flattenInto(data: unknown[], out: unknown[]): void {
  forEachLeaf(data, (v) => out.push(v));
}

/** Visits the non-array elements of nested arrays in row-major order, without recursion. */
export function forEachLeaf(data: unknown[], visit: (v: unknown) => void): void {
  const arrays: unknown[][] = [data];
  const positions: number[] = [0];
  while (arrays.length > 0) {
    const top = arrays.length - 1;
    const items = arrays[top];
    let i = positions[top];
    for (; i < items.length; i++) {
      const v = items[i];
      if (Array.isArray(v)) break;
      visit(v);
    }
    if (i === items.length) {
      arrays.pop();
      positions.pop();
    } else {
      positions[top] = i + 1;
      arrays.push(items[i] as unknown[]);
      positions.push(0);
    }
  }
}

function elementFits(datatype: Datatype, v: unknown): boolean {
  if (datatype === 'BOOL') return typeof v === 'boolean';
  if (datatype === 'BYTES') return typeof v === 'string';
  const range = INTEGER_RANGES[datatype];
  if (range) return typeof v === 'number' && Number.isInteger(v) && v >= range[0] && v <= range[1];
  // Floats: JSON cannot carry NaN/Infinity as numbers; MLServer and Triton accept these strings.
  return typeof v === 'number' || v === 'NaN' || v === 'Infinity' || v === '-Infinity';
}

function expected(datatype: Datatype): string {
  if (datatype === 'BOOL') return 'true or false';
  if (datatype === 'BYTES') return 'a string';
  const range = INTEGER_RANGES[datatype];
  if (range) return `an integer from ${range[0]} to ${range[1]}`;
  return 'a number';
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (jsonDepthExceeds(v)) return `a value nested deeper than ${MAX_JSON_DEPTH} levels`;
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
