/**
 * Validates `mlops.seldon.io` objects against our CRD schemas in strict mode (undeclared fields
 * are errors), the way a careful reviewer would before anything reaches a cluster.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { openApiSchemaFor, strictSchema } from './crd-schemas.ts';
import type { MlopsKind } from './types.ts';
import { MLOPS_KINDS } from './types.ts';

export interface SchemaViolation {
  /** JSON pointer of the offending value inside the object. */
  pointer: string;
  message: string;
}

const INT32 = 2 ** 31;
let validators: Map<MlopsKind, ValidateFunction> | undefined;

function compileValidators(): Map<MlopsKind, ValidateFunction> {
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addFormat('int32', {
    type: 'number',
    validate: (n: number) => Number.isInteger(n) && n >= -INT32 && n < INT32,
  });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  return new Map(
    MLOPS_KINDS.map((kind) => [kind, ajv.compile(strictSchema(openApiSchemaFor(kind)) as object)]),
  );
}

/** Schema violations of one `mlops.seldon.io/v1alpha1` object; empty when valid. */
export function validateAgainstCrd(obj: { kind: MlopsKind }): SchemaViolation[] {
  validators ??= compileValidators();
  const validate = validators.get(obj.kind);
  if (!validate) return [{ pointer: '/kind', message: `unknown kind ${String(obj.kind)}` }];
  if (validate(obj)) return [];
  return (validate.errors ?? []).map((e) => {
    const extra =
      e.keyword === 'additionalProperties'
        ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'`
        : '';
    return { pointer: e.instancePath || '/', message: `${e.message}${extra}` };
  });
}
