// Rendering of validation findings (the findings themselves are the shared checks').
import type { Finding } from '../../synth/check/findings.ts';

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
