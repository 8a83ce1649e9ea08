import { asRecord, readJsonBody, text } from './read-body.ts';

/**
 * The message of a vLLM error body, in either shape it has used: the flat
 * `{"object":"error","message":…,"type":…}` and the nested `{"error":{"message":…,"type":…}}`
 * (as `/v1/load_lora_adapter` and `/v1/unload_lora_adapter` answer a failure). Falls back to the
 * body's first 200 characters when it is neither.
 */
export function vllmErrorMessage(body: string): string {
  const read = readJsonBody(body, 'error body');
  if (read.ok) {
    const record = asRecord(read.value);
    const inner = asRecord(record?.error) ?? record;
    const message = text(inner?.message);
    const type = text(inner?.type);
    if (message !== undefined) return type !== undefined ? `${type}: ${message}` : message;
  }
  return body.slice(0, 200);
}
