// The checks `mlops validate` runs on one app's output folder, run by synthesis on what it is
// about to write: schemas (strict), references within the set, the workload policy.
import type { ValidationFinding } from '../../constructs/validation.ts';
import { type CheckedObject, compareFindings, type Finding } from './findings.ts';
import { checkPolicy } from './policy.ts';
import { checkReferences } from './references.ts';
import { checkSchemas } from './schemas.ts';
import { checkSizes } from './size.ts';

/** Every finding `mlops validate` would report on these objects, taken as one set. */
export function checkOutput(objects: CheckedObject[]): Finding[] {
  return [
    ...checkSchemas(objects),
    ...checkSizes(objects),
    ...checkReferences(objects),
    ...checkPolicy(objects),
  ].sort(compareFindings);
}

/** What to do about a finding of each check whose message does not already say. */
const FIXES: Record<string, string> = {
  'unknown-field': 'remove the field, or correct its spelling',
  'wrong-type': 'give the field a value of the type its schema expects',
  'missing-field': 'set the required field',
  crd: 'correct the value as the CRD schema requires',
  'no-schema': 'emit only kinds with a known schema, or add the CustomResourceDefinition to the app',
  'unknown-kind': 'use a kind of the API version',
  name: 'use a DNS-1123 label as the name',
  probes: 'add the probe to the container',
  'pss-privilege-escalation': 'set securityContext.allowPrivilegeEscalation: false',
  'pss-run-as-non-root': 'set securityContext.runAsNonRoot: true and a non-zero runAsUser',
  'pss-seccomp': 'set securityContext.seccompProfile.type: RuntimeDefault',
  'pss-capabilities': 'set securityContext.capabilities.drop: [ALL] and add nothing but NET_BIND_SERVICE',
  'unknown-step': 'name a step of the pipeline, or the pipeline itself',
  'default-not-candidate': 'make the default one of the candidates',
};

/**
 * A finding in synthesis's own form: the construct that declared the object, the field, the
 * problem (naming the object, its file and the check, as `mlops validate` would) and the fix.
 */
export function toValidationFinding(finding: Finding, constructPath: string): ValidationFinding {
  // Other checks end their message with the fix, after the last "; ".
  const tail = finding.message.lastIndexOf('; ');
  const fix = FIXES[finding.check] ?? (tail > 0 ? finding.message.slice(tail + 2) : undefined);
  return {
    path: constructPath,
    field: finding.path || '(object)',
    message: `${finding.object} (${finding.file}): ${finding.message} [${finding.rule}/${finding.check}]`,
    fix,
  };
}
