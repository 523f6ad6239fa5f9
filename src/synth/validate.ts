import type { IConstruct } from 'constructs';
import { Environment } from '../constructs/environment.ts';
import { ExternalResource, MlopsResource } from '../constructs/resource.ts';
import { collectFindings, type ValidationFinding } from '../constructs/validation.ts';

/**
 * Every problem of the app: the findings of our constructs' rules, plus what other constructs
 * (cdk8s-plus, hand-written ones) report through cdk8s' `node.addValidation`, which a plain
 * `app.synth()` would also have refused.
 */
export function findProblems(root: IConstruct): ValidationFinding[] {
  const findings = collectFindings(root);
  // Rules also answer `node.validate()` (as "field: message ..."): skip those repeats.
  const ruled = new Map<string, string[]>();
  for (const f of findings) ruled.set(f.path, [...(ruled.get(f.path) ?? []), `${f.field}: ${f.message}`]);
  const others: ValidationFinding[] = [];
  for (const construct of root.node.findAll()) {
    // Our constructs' validations are their rules, each walking the whole tree: covered by
    // collectFindings already, and quadratic to run again on a large app.
    if (isOurs(construct)) continue;
    const path = construct.node.path;
    for (const message of construct.node.validate()) {
      if (ruled.get(path)?.some((prefix) => message.startsWith(prefix))) continue;
      others.push({ path, field: '(construct)', message });
    }
  }
  return [...findings, ...others];
}

function isOurs(construct: IConstruct): boolean {
  return (
    construct instanceof MlopsResource ||
    construct instanceof ExternalResource ||
    construct instanceof Environment
  );
}
