// Kubernetes refuses a ConfigMap or Secret whose data adds up to more than 1 MiB; catch it in
// review rather than at apply time.
import type { CheckedObject, Finding } from './findings.ts';

/** The API server's limit on the data of one ConfigMap or Secret (values, decoded). */
export const MAX_DATA_BYTES = 1024 * 1024;

type Obj = Record<string, unknown>;
const values = (v: unknown): unknown[] =>
  v && typeof v === 'object' && !Array.isArray(v) ? Object.values(v as Obj) : [];
const bytes = (v: unknown, base64: boolean) =>
  typeof v !== 'string' ? 0 : base64 ? Buffer.byteLength(v, 'base64') : Buffer.byteLength(v, 'utf8');

export function checkSizes(objects: CheckedObject[]): Finding[] {
  const out: Finding[] = [];
  for (const { object: o, file } of objects) {
    if (o.apiVersion !== 'v1' || (o.kind !== 'ConfigMap' && o.kind !== 'Secret')) continue;
    // ConfigMap `data` is text and `binaryData` base64; Secret `data` is base64 and `stringData` text.
    const fields: Array<[string, boolean]> =
      o.kind === 'ConfigMap'
        ? [
            ['data', false],
            ['binaryData', true],
          ]
        : [
            ['data', true],
            ['stringData', false],
          ];
    const total = fields.reduce(
      (t, [f, b64]) => t + values(o[f]).reduce<number>((s, v) => s + bytes(v, b64), 0),
      0,
    );
    if (total <= MAX_DATA_BYTES) continue;
    const ns = o.metadata.namespace;
    out.push({
      file,
      object: `${o.kind} ${ns ? `${ns}/` : ''}${o.metadata.name}`,
      path: fields.map(([f]) => f).find((f) => values(o[f]).length > 0) ?? '',
      rule: 'schema',
      check: 'too-large',
      message: `holds ${(total / 1024 / 1024).toFixed(1)} MiB of data, over the 1 MiB Kubernetes accepts in a ${o.kind}; keep large data in a volume or an object store, or split it`,
    });
  }
  return out;
}
