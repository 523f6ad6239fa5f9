// An imported ServerConfig keeps its pod template as written, so the app synthesizes back to the
// same object: hardening is turned off where it would change the template, and each policy check
// the template fails is accepted with a reason that tells reviewers what is left to fix.
import { isDeepStrictEqual } from 'node:util';
import { literal, type PropValue } from '../../constructs/prop-values.ts';
import { hardenPodSpec } from '../../constructs/workloads/pod-merge.ts';
import { isAcceptablePolicyCheck } from '../../spec/policy.ts';
import type { KubeObject, ServerConfigSpec } from '../../spec/types.ts';
import { checkPolicy } from '../../synth/check/policy.ts';

/** The reason an imported template accepts a check; synthesis reports it once the check passes. */
export const IMPORTED_AS_WRITTEN = 'imported from Seldon YAML as written';

export function importedPolicyProps(object: KubeObject): Array<[string, PropValue]> {
  const podSpec = (object.spec as unknown as ServerConfigSpec).podSpec as Record<string, unknown>;
  const entries: Array<[string, PropValue]> = [];
  if (!isDeepStrictEqual(hardenPodSpec(podSpec), podSpec)) entries.push(['hardenPodSpec', literal(false)]);
  // Annotations of the source object play no part: the generated app writes its own.
  const bare: KubeObject = { ...object, metadata: { name: object.metadata.name } };
  const failing = new Set(checkPolicy([{ object: bare, file: '' }]).map((f) => f.check));
  const accepted = [...failing].filter(isAcceptablePolicyCheck).sort();
  if (accepted.length)
    entries.push([
      'acceptPolicy',
      literal(Object.fromEntries(accepted.map((c) => [c, IMPORTED_AS_WRITTEN]))),
    ]);
  return entries;
}
