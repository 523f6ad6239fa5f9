// Our validate checks as a cdk8s validation plugin: `cdk8s synth` loads the class named in a
// `validations:` entry of cdk8s.yaml and calls validate() with the manifests it synthesized.
// The cdk8s CLI's types are restated structurally so the package needs no cdk8s-cli at run time.
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import type { Finding } from '../synth/check/findings.ts';
import { parseManifests, setsOf } from './manifests.ts';

/** The part of cdk8s-cli's `ValidationContext` the plugin uses. */
export interface Cdk8sValidationContext {
  readonly manifests: string[];
  readonly report: {
    addViolation(violation: Cdk8sViolation): void;
    submit(status: 'success' | 'failure', metadata?: Record<string, string>): void;
  };
}

/** cdk8s-cli's `ValidationViolation`. */
export interface Cdk8sViolation {
  ruleName: string;
  recommendation: string;
  fix: string;
  violatingResources: { resourceName: string; locations: string[]; manifestPath: string }[];
}

/** `properties:` of the cdk8s.yaml entry; the same switches as `mlops validate`. */
export interface MlopsValidationProps {
  /** Objects declared elsewhere: name, Kind/name or Kind/namespace/name. @default none */
  readonly external?: string[];
  /** Skip kinds with no known schema. @default false */
  readonly ignoreMissingSchemas?: boolean;
  /** Skip the workload policy checks. @default false */
  readonly skipPolicy?: boolean;
}

/** The class a cdk8s.yaml `validations:` entry names (`class: MlopsValidation`). */
export class MlopsValidation {
  constructor(private readonly props: MlopsValidationProps = {}) {}

  async validate(context: Cdk8sValidationContext): Promise<void> {
    if (context.manifests.length === 0) {
      context.report.submit('success', { objects: '0', findings: '0' });
      return;
    }
    // App folders as `mlops validate dist` reads them: each dist/<app>/ its own set, so two
    // environments declaring the same objects are not duplicates of each other. Only the files cdk8s
    // lists: the folder also holds its construct-metadata.json.
    const root = commonDirectory(context.manifests);
    const names = context.manifests.map((f) => relative(root, resolve(f)).split(sep).join('/'));
    const setOf = setsOf(names);
    const manifests = context.manifests.flatMap((file, i) =>
      parseManifests(readFileSync(file, 'utf8'), file, setOf(names[i])),
    );
    // Loaded on demand, as `mlops validate` does: the schemas are large.
    const { validateManifests } = await import('./validate/validate.ts');
    const findings = validateManifests(manifests, this.props);
    for (const f of findings) context.report.addViolation(toViolation(f));
    context.report.submit(findings.length === 0 ? 'success' : 'failure', {
      objects: String(manifests.length),
      findings: String(findings.length),
    });
  }
}

/** One violation per finding, so each keeps its own object, path and fix. */
export function toViolation(f: Finding): Cdk8sViolation {
  return {
    ruleName: `${f.rule}/${f.check}`,
    recommendation: f.path ? `${f.path}: ${f.message}` : f.message,
    fix: fixOf(f),
    violatingResources: [
      { resourceName: f.object || f.file, locations: [f.path || '(whole object)'], manifestPath: f.file },
    ],
  };
}

const RULE_FIX: Record<Finding['rule'], string> = {
  schema: 'correct or remove the field in the app that writes this object, then synthesize again',
  reference: 'declare the referenced object in the app, or list it under `external` in the plugin properties',
  policy: 'set the field the message names in the app (or its pod spec), then synthesize again',
};

const CHECK_FIX: Record<string, string> = {
  duplicate: 'give one of the objects another name, or remove one of them',
};

/** The fix the message states (`...; remove privileged: true`), else the check's or rule's general one. */
function fixOf(f: Finding): string {
  const stated =
    /[;:] ((?:set|remove|use|add|declare|rename|pass|give|choose|drop|make|move|run|list)\b[^;]*)$/.exec(
      f.message,
    )?.[1];
  return stated ?? CHECK_FIX[f.check] ?? RULE_FIX[f.rule];
}

/** The deepest directory holding every file. */
function commonDirectory(files: string[]): string {
  const [first, ...rest] = files.map((f) => dirname(resolve(f)).split(sep));
  let length = first.length;
  for (const dir of rest) {
    let i = 0;
    while (i < length && i < dir.length && dir[i] === first[i]) i++;
    length = i;
  }
  return first.slice(0, length).join(sep) || sep;
}
