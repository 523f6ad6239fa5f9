import { DEFAULT_GATEWAY } from '../local-gateway.ts';

interface TensorMetadata {
  name?: string;
  datatype?: string;
  shape?: number[];
}

/** Four iris-like features: what most quickstart models (sklearn on iris) take. */
const FALLBACK = {
  inputs: [{ name: 'predict', shape: [1, 4], datatype: 'FP64', data: [5.1, 3.5, 1.4, 0.2] }],
};

const DATA_OF: Record<string, unknown> = { BOOL: false, BYTES: 'text' };

/**
 * A request the model accepts according to its OIP metadata (`inputs` with datatype and shape;
 * -1 dimensions become 1), filled with zeros; iris-like features when the model declares none.
 */
export function sampleRequest(metadata: unknown): { inputs: unknown[] } {
  const inputs = (metadata as { inputs?: TensorMetadata[] } | undefined)?.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) return FALLBACK;
  if (!inputs.every((t) => t.name && t.datatype && Array.isArray(t.shape))) return FALLBACK;
  return {
    inputs: inputs.map((t) => {
      const shape = (t.shape as number[]).map((d) => (d > 0 ? d : 1));
      const count = shape.reduce((a, b) => a * b, 1);
      const value = DATA_OF[t.datatype as string] ?? 0;
      return { name: t.name, shape, datatype: t.datatype, data: Array.from({ length: count }, () => value) };
    }),
  };
}

/** Shell single-quoting. */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The ready-to-run commands for one model. */
export function tryCommands(gateway: string, model: string, request: unknown): string[] {
  const body = shellQuote(JSON.stringify(request));
  return [
    `curl -s ${gateway}/v2/models/${model}/infer -H 'content-type: application/json' -d ${body}`,
    `npx mlops infer ${model} ${body}${gateway === DEFAULT_GATEWAY ? '' : ` --gateway ${gateway}`}`,
  ];
}
