import { asRecord, positiveInteger, readJsonBody, text } from './read-body.ts';
import type { InventoryParse } from './served-model.ts';

/**
 * Hugging Face TGI's `GET /info`: one model, `model_id` its name, `model_sha` the revision it was
 * loaded at (null when started from a local path), `max_total_tokens` (1.x and 2.x) its context,
 * `version` the server's version. TGI answers /info only once the model is loaded, so it is ready.
 */
export function parseTgiInfo(body: string, what = 'GET /info'): InventoryParse {
  const read = readJsonBody(body, what);
  if (!read.ok) return read;
  const info = asRecord(read.value);
  const name = text(info?.model_id);
  if (!info || name === undefined) return { ok: false, error: `${what} has no usable "model_id"` };
  const revision = text(info.model_sha);
  const maxContextTokens = positiveInteger(info.max_total_tokens);
  const server = text(info.version);
  return {
    ok: true,
    models: [
      {
        name,
        root: name,
        state: 'ready',
        ...(revision !== undefined ? { revision } : {}),
        ...(maxContextTokens !== undefined ? { maxContextTokens } : {}),
      },
    ],
    ...(server !== undefined ? { server: `tgi ${server}` } : {}),
  };
}
