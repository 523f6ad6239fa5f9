import { messageToJsonRequest, messageToJsonResponse } from '../../runtime/oip/convert.ts';
import type { JsonTensor } from '../../runtime/oip/json-types.ts';
import { decodeRequest, decodeResponse } from '../../runtime/oip/messages.ts';
import { HEADER_ERRORS } from '../../spec/headers.ts';
import type { TopicRecord } from './topic-reader.ts';

/** A record with its value decoded: OIP tensors for inputs/outputs topics, text otherwise. */
export interface DecodedRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: string;
  key: string;
  headers: Record<string, string>;
  id?: string;
  tensors?: JsonTensor[];
  parameters?: Record<string, unknown>;
  text?: string;
}

export function decodeRecord(r: TopicRecord): DecodedRecord {
  const base = {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    timestamp: new Date(r.timestamp).toISOString(),
    key: r.key,
    headers: Object.fromEntries(Object.entries(r.headers).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
  const io = r.topic.endsWith('.inputs') ? 'inputs' : r.topic.endsWith('.outputs') ? 'outputs' : undefined;
  // Error records (and the errors topic) carry the error text, not a protobuf message.
  if (!io || r.headers[HEADER_ERRORS]) return { ...base, text: r.value.toString('utf8') };
  try {
    const json =
      io === 'inputs'
        ? messageToJsonRequest(decodeRequest(r.value))
        : messageToJsonResponse(decodeResponse(r.value));
    const tensors = 'inputs' in json ? json.inputs : json.outputs;
    return {
      ...base,
      ...(json.id ? { id: json.id } : {}),
      ...(json.parameters ? { parameters: json.parameters } : {}),
      tensors,
    };
  } catch (err) {
    return {
      ...base,
      text: `(not an OIP ${io === 'inputs' ? 'request' : 'response'}: ${(err as Error).message}) ${r.value.toString('base64')}`,
    };
  }
}

/** Keeps only `tensor`; undefined when the record does not hold it. */
export function withTensor(r: DecodedRecord, tensor: string | undefined): DecodedRecord | undefined {
  if (!tensor) return r;
  const kept = r.tensors?.filter((t) => t.name === tensor);
  return kept?.length ? { ...r, tensors: kept } : undefined;
}

const MAX_VALUES = 32;

export function formatText(records: DecodedRecord[]): string {
  return records
    .map((r) => {
      const headers = Object.entries(r.headers)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      const lines = [
        `${r.topic} [${r.partition}@${r.offset}] ${r.timestamp}`,
        `  key=${r.key}${headers ? ` ${headers}` : ''}`,
      ];
      if (r.text !== undefined) lines.push(`  ${r.text}`);
      for (const t of r.tensors ?? []) {
        const shown = t.data.slice(0, MAX_VALUES).map((v) => JSON.stringify(v));
        const more = t.data.length > MAX_VALUES ? `, … ${t.data.length - MAX_VALUES} more` : '';
        lines.push(`  ${t.name} ${t.datatype}[${t.shape.join(',')}] = [${shown.join(', ')}${more}]`);
      }
      return lines.join('\n');
    })
    .join('\n\n');
}
