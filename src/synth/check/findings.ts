// A check's finding: where (file, object, JSON path), what rule, and how to fix it. The checks
// here are those `mlops validate` runs, shared with synthesis so it never writes what validate
// would reject.
import type { KubeObject } from '../../spec/types.ts';

export type FindingRule = 'schema' | 'reference' | 'policy';

export interface Finding {
  file: string;
  /** `Kind namespace/name` of the object, or empty for file-level problems. */
  object: string;
  /** Path inside the object, e.g. `spec.template.spec.containers[0].image`; empty for the whole object. */
  path: string;
  rule: FindingRule;
  /** Short stable identifier of the check, e.g. `unknown-field`, `latest-tag`. */
  check: string;
  message: string;
}

/** One object to check and the file it is (or will be) written to. */
export interface CheckedObject {
  object: KubeObject;
  file: string;
}

/** JSON pointer (`/spec/containers/0/image`) to the dotted path used in messages. */
export function pointerToPath(pointer: string): string {
  if (!pointer || pointer === '/') return '';
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => {
      if (/^\d+$/.test(seg)) return `${acc}[${seg}]`;
      if (!/^[A-Za-z_$][\w$-]*$/.test(seg)) return `${acc}[${JSON.stringify(seg)}]`;
      return acc ? `${acc}.${seg}` : seg;
    }, '');
}

export function compareFindings(a: Finding, b: Finding): number {
  return (
    cmp(a.file, b.file) ||
    cmp(a.object, b.object) ||
    cmp(a.path, b.path) ||
    cmp(a.check, b.check) ||
    cmp(a.message, b.message)
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
