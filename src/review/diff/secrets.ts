// Secret values never leave this module: they are replaced by a marker with their size in bytes.
// That covers a Secret's `data`/`stringData` and every credential-shaped value of any object (see
// spec/credentials.ts). A ConfigMap's data is configuration reviewers need to read, so only the
// credentials in it are masked, not the whole of it. kubectl's last-applied annotation, which
// embeds whole objects, never gets here: compare.ts drops it with the other server-side fields.
import { type Credential, redactCredentials, type ValueAt } from '../../spec/credentials.ts';
import type { KubeObject } from '../../spec/types.ts';
import type { ShowValue } from './field-diff.ts';

export const isSecret = (o: KubeObject | undefined) => o?.kind === 'Secret' && o.apiVersion === 'v1';

const marker = (bytes: number) => `<secret: ${bytes} byte${bytes === 1 ? '' : 's'}>`;

/** `<secret: 12 bytes>`; `data` values are base64, so their decoded size is what the pod sees. */
export function maskValue(value: unknown, field: 'data' | 'stringData'): string {
  if (typeof value !== 'string') return '<secret>';
  return marker(field === 'data' ? Buffer.from(value, 'base64').length : Buffer.byteLength(value, 'utf8'));
}

function maskMap(map: unknown, field: 'data' | 'stringData'): unknown {
  if (typeof map !== 'object' || map === null || Array.isArray(map)) return maskValue(map, field);
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, maskValue(v, field)]));
}

const maskCredential = (c: Credential) => marker(Buffer.byteLength(c.secret, 'utf8'));

/** A value with every credential it holds masked; `at` places a part taken out of an object. */
export function maskCredentials<T>(value: T, at: ValueAt = {}): T {
  return redactCredentials(value, maskCredential, at);
}

/** A copy of the object with its credentials masked, and a Secret's `data`/`stringData` values. */
export function maskObject<T extends KubeObject | undefined>(o: T): T {
  if (!o) return o;
  const copy: Record<string, unknown> = maskCredentials({ ...o });
  if (isSecret(o)) {
    for (const field of ['data', 'stringData'] as const)
      if (field in o) copy[field] = maskMap(o[field], field);
  }
  return copy as T;
}

/** How a diff of an object of this kind shows values: credentials masked, a Secret's data too. */
export function showMasked(o: KubeObject | undefined): ShowValue {
  const secret = isSecret(o);
  return (value, at) => {
    const field = secret
      ? (/^(data|stringData)\b/.exec(at.path)?.[1] as 'data' | 'stringData' | undefined)
      : undefined;
    if (field) return at.path === field ? maskMap(value, field) : maskValue(value, field);
    return maskCredentials(value, at);
  };
}
