// Secret values never leave this module: they are replaced by a marker with their size in bytes.
import { LAST_APPLIED_ANNOTATION } from '../../spec/annotations.ts';
import type { KubeObject } from '../../spec/types.ts';
import type { FieldChange } from './field-diff.ts';

export const isSecret = (o: KubeObject | undefined) => o?.kind === 'Secret' && o.apiVersion === 'v1';

/** `<secret: 12 bytes>`; `data` values are base64, so their decoded size is what the pod sees. */
export function maskValue(value: unknown, field: 'data' | 'stringData'): string {
  if (typeof value !== 'string') return '<secret>';
  const bytes = field === 'data' ? Buffer.from(value, 'base64').length : Buffer.byteLength(value, 'utf8');
  return `<secret: ${bytes} byte${bytes === 1 ? '' : 's'}>`;
}

function maskMap(map: unknown, field: 'data' | 'stringData'): unknown {
  if (typeof map !== 'object' || map === null || Array.isArray(map)) return maskValue(map, field);
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, maskValue(v, field)]));
}

/** A copy of the object with `data`/`stringData` values masked (other kinds returned as is). */
export function maskObject<T extends KubeObject | undefined>(o: T): T {
  if (!o || !isSecret(o)) return o;
  const copy: Record<string, unknown> = { ...o };
  for (const field of ['data', 'stringData'] as const)
    if (field in copy) copy[field] = maskMap(copy[field], field);
  const ann = o.metadata.annotations;
  // kubectl's last-applied annotation embeds the whole Secret, values included.
  if (ann?.[LAST_APPLIED_ANNOTATION]) {
    copy.metadata = {
      ...o.metadata,
      annotations: { ...ann, [LAST_APPLIED_ANNOTATION]: '<secret>' },
    };
  }
  return copy as T;
}

/** Masks the before/after values of changes under `data` / `stringData` of a Secret. */
export function maskChanges(changes: FieldChange[]): FieldChange[] {
  return changes.map((c) => {
    const field = /^(data|stringData)\b/.exec(c.path)?.[1] as 'data' | 'stringData' | undefined;
    const lastApplied = c.path.includes('last-applied-configuration');
    if (!field && !lastApplied) return c;
    const mask = (v: unknown) => {
      if (v === undefined) return undefined;
      if (lastApplied) return '<secret>';
      return c.path === field ? maskMap(v, field as 'data') : maskValue(v, field as 'data');
    };
    const out: FieldChange = { path: c.path, op: c.op };
    if ('before' in c) out.before = mask(c.before);
    if ('after' in c) out.after = mask(c.after);
    return out;
  });
}
