import { asRecord, positiveInteger, readJsonBody, text, tooMany } from './read-body.ts';
import type { InventoryParse, ServedModel } from './served-model.ts';

/**
 * vLLM's and SGLang's `GET /v1/models` (the OpenAI list shape): each entry's `id` is a served name,
 * `root` what it was loaded from, `parent` the base model of a LoRA adapter (null for a base),
 * `max_model_len` its context. Every listed model is ready: these servers list only what they
 * can serve. An entry without a usable `id` makes the whole answer unusable (a half-read list
 * would look like an unload).
 */
export function parseOpenAiModels(body: string, what = 'GET /v1/models'): InventoryParse {
  const read = readJsonBody(body, what);
  if (!read.ok) return read;
  const data = asRecord(read.value)?.data;
  if (!Array.isArray(data)) return { ok: false, error: `${what} has no "data" list` };
  const many = tooMany(data.length, what);
  if (many) return many;
  const models: ServedModel[] = [];
  for (let i = 0; i < data.length; i++) {
    const entry = asRecord(data[i]);
    const name = text(entry?.id);
    if (!entry || name === undefined)
      return { ok: false, error: `${what}: data[${i}] has no usable "id"` };
    const root = text(entry.root);
    const parent = text(entry.parent);
    const maxContextTokens = positiveInteger(entry.max_model_len);
    models.push({
      name,
      state: 'ready',
      ...(root !== undefined ? { root } : {}),
      ...(parent !== undefined ? { parent } : {}),
      ...(maxContextTokens !== undefined ? { maxContextTokens } : {}),
    });
  }
  return { ok: true, models };
}
