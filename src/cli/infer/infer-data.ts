import { readFileSync } from 'node:fs';

/**
 * The request body of `mlops infer`: inline OIP JSON, `@file`, or `-` for stdin. Returns the
 * parsed object so malformed input is reported here, naming where it came from.
 */
export function loadInferData(arg: string, readStdin: () => string): Record<string, unknown> {
  let text: string;
  let source: string;
  if (arg === '-') {
    source = 'stdin';
    text = readStdin();
  } else if (arg.startsWith('@')) {
    source = arg.slice(1);
    try {
      text = readFileSync(source, 'utf8');
    } catch (err) {
      throw new Error(
        `cannot read ${source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  } else {
    source = 'the DATA argument';
    text = arg;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(
      `${source} is not valid JSON (${(err as Error).message}); pass an OIP request such as ` +
        `'{"inputs":[{"name":"predict","shape":[1,4],"datatype":"FP32","data":[5.1,3.5,1.4,0.2]}]}'`,
    );
  }
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    !Array.isArray((value as { inputs?: unknown }).inputs)
  ) {
    throw new Error(`${source} is not an OIP inference request: it needs an "inputs" array of tensors`);
  }
  return value as Record<string, unknown>;
}
