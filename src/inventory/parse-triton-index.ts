import { asRecord, readJsonBody, text, tooMany } from './read-body.ts';
import type { InventoryParse, LoadState, ServedModel } from './served-model.ts';

const STATES: Readonly<Record<string, LoadState>> = {
  READY: 'ready',
  LOADING: 'loading',
  UNLOADING: 'unavailable',
  UNAVAILABLE: 'unavailable',
};

/**
 * Triton's (KServe v2 repository extension) `POST /v2/repository/index`: a list of
 * `{name, version?, state?, reason?}`. A model in the repository that was never loaded has no
 * state, and one unloaded on purpose is `UNAVAILABLE` with reason `unloaded`: both are left out
 * (not loaded). `LOADING`, and `UNAVAILABLE` for any other reason (a failed load), are listed as
 * not ready, with the reason. Each version is its own entry; the version is the revision.
 */
export function parseTritonIndex(body: string, what = 'POST /v2/repository/index'): InventoryParse {
  const read = readJsonBody(body, what);
  if (!read.ok) return read;
  if (!Array.isArray(read.value)) return { ok: false, error: `${what} is not a list` };
  const list = read.value as unknown[];
  const many = tooMany(list.length, what);
  if (many) return many;
  const models: ServedModel[] = [];
  for (let i = 0; i < list.length; i++) {
    const entry = asRecord(list[i]);
    const name = text(entry?.name);
    if (!entry || name === undefined) return { ok: false, error: `${what}: [${i}] has no "name"` };
    const rawState = text(entry.state);
    const reason = text(entry.reason);
    if (rawState === undefined || (rawState === 'UNAVAILABLE' && reason === 'unloaded')) continue;
    const state = STATES[rawState];
    if (state === undefined)
      return { ok: false, error: `${what}: [${i}] has unknown state "${rawState}"` };
    const revision = text(entry.version);
    models.push({
      name,
      state,
      ...(revision !== undefined ? { revision } : {}),
      ...(reason !== undefined && state !== 'ready' ? { reason } : {}),
    });
  }
  return { ok: true, models };
}
