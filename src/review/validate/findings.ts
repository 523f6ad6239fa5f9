// A validation finding: where (file, object, JSON path), what rule, and how to fix it.

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

export function renderFindingsText(findings: Finding[], objects: number): string {
  const lines = findings.map((f) => {
    const where = [f.file, f.object, f.path].filter(Boolean).join(': ');
    return `${where}: ${f.message} [${f.rule}/${f.check}]`;
  });
  const n = findings.length;
  lines.push(
    n === 0
      ? `${objects} objects checked: no findings`
      : `${objects} objects checked: ${n} finding${n === 1 ? '' : 's'}`,
  );
  return `${lines.join('\n')}\n`;
}

export function renderFindingsJson(findings: Finding[], objects: number): string {
  return `${JSON.stringify({ objects, findings }, null, 2)}\n`;
}
