import { type FetchLimits, fetchBounded } from '../http-client/index.ts';
import type { InventoryParse, ServedModel } from '../inventory/index.ts';

/** A model the rules route to this host, as the server would name it. */
export interface WantedModel {
  readonly name: string;
  readonly revision?: string;
}

/** Most models probed one by one in one poll (the rest are reported as not confirmed). */
export const MAX_READY_PROBES = 256;
const PARALLEL = 8;

/**
 * For KServe v2 servers without Triton's repository extension: asks
 * `GET /v2/models/{name}[/versions/{v}]/ready` for each model the rules route here. 200 is ready;
 * another answer means not loaded (not listed); a server that does not answer at all fails the
 * whole poll (its last good answer is kept, as for any failure).
 */
export async function askKserveReady(
  url: string,
  wanted: readonly WantedModel[],
  limits: FetchLimits,
): Promise<InventoryParse> {
  const probes = wanted.slice(0, MAX_READY_PROBES);
  const models: ServedModel[] = [];
  let failure: string | null = null;
  let next = 0;
  const worker = async () => {
    while (next < probes.length && failure === null) {
      const model = probes[next++] as WantedModel;
      const path = `/v2/models/${encodeURIComponent(model.name)}${model.revision ? `/versions/${encodeURIComponent(model.revision)}` : ''}/ready`;
      try {
        const answer = await fetchBounded(`${url}${path}`, { ...limits, maxBytes: 64 * 1024 });
        if (answer.status === 200)
          models.push({
            name: model.name,
            state: 'ready',
            ...(model.revision ? { revision: model.revision } : {}),
          });
      } catch (error) {
        failure = (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, probes.length) }, worker));
  if (failure !== null) return { ok: false, error: failure };
  models.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { ok: true, models };
}
