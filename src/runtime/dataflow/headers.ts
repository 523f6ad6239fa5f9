import { EXPLAINER_HEADERS } from '../../spec/headers.ts';
import type { Headers } from '../bus/bus.ts';

/** Headers of a joined record: every part's, the first part's winning; explainer call headers dropped. */
export function mergeHeaders(parts: readonly { headers: Headers }[]): Headers {
  const out: Headers = {};
  for (let i = parts.length - 1; i >= 0; i--) Object.assign(out, parts[i].headers);
  for (const h of EXPLAINER_HEADERS) delete out[h];
  return out;
}
