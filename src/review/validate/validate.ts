// `mlops validate`: schemas, references and policy over a set of manifests, no cluster needed.
// References resolve within one set (one app folder of a synth output).

import { compareFindings, type Finding } from '../../synth/check/findings.ts';
import { checkPolicy } from '../../synth/check/policy.ts';
import { checkReferences } from '../../synth/check/references.ts';
import { checkSchemas } from '../../synth/check/schemas.ts';
import { checkSizes } from '../../synth/check/size.ts';
import { describeId, identityKey } from '../identity.ts';
import { type Manifest, oversizedMessage } from '../manifests.ts';

export interface ValidateOptions {
  external?: string[];
  ignoreMissingSchemas?: boolean;
  /** Skip the workload policy checks (schemas and references only). */
  skipPolicy?: boolean;
}

export function validateManifests(manifests: Manifest[], options: ValidateOptions = {}): Finding[] {
  const findings = [
    ...duplicates(manifests),
    ...checkSchemas(manifests, options),
    ...checkSizes(manifests),
    ...[...bySet(manifests).values()].flatMap((set) => checkReferences(set, options)),
    ...(options.skipPolicy ? [] : checkPolicy(manifests)),
  ];
  return findings.sort(compareFindings);
}

/** A file too large to parse (see loadManifests), as a finding of its own. */
export function oversizedFileFinding(file: string, bytes: number): Finding {
  return {
    file,
    object: '',
    path: '',
    rule: 'schema',
    check: 'too-large',
    message: oversizedMessage('the file', bytes),
  };
}

function bySet(manifests: Manifest[]): Map<string, Manifest[]> {
  const sets = new Map<string, Manifest[]>();
  for (const m of manifests) sets.set(m.id.set, [...(sets.get(m.id.set) ?? []), m]);
  return sets;
}

function duplicates(manifests: Manifest[]): Finding[] {
  const seen = new Map<string, Manifest>();
  const out: Finding[] = [];
  for (const m of manifests) {
    const key = identityKey(m.id);
    const prev = seen.get(key);
    if (!prev) seen.set(key, m);
    else {
      out.push({
        file: m.file,
        object: describeId({ ...m.id, set: '' }),
        path: 'metadata.name',
        rule: 'schema',
        check: 'duplicate',
        message: `also defined in ${prev.file}; an applier would keep only one of them`,
      });
    }
  }
  return out;
}
