import { type FetchLimits, fetchBounded } from '../http-client/index.ts';
import {
  type GenericShape,
  type InventoryParse,
  parseGeneric,
  parseOpenAiModels,
  parseSglangModelInfo,
  parseTgiInfo,
  parseTritonIndex,
  withSglangModelInfo,
} from '../inventory/index.ts';

/** A model server kind and where to ask it. */
export interface ServerEndpoint {
  readonly kind: 'vllm' | 'sglang' | 'tgi' | 'triton' | 'generic';
  /** Base URL: scheme, host and port, no trailing slash. */
  readonly url: string;
  /** For `generic`: the path to GET and where the models are in its answer. */
  readonly generic?: GenericShape & { readonly path: string };
}

/** The request each kind answers with its inventory, for messages. */
export function describeEndpoint(endpoint: ServerEndpoint): string {
  const path = {
    vllm: '/v1/models',
    sglang: '/v1/models',
    tgi: '/info',
    triton: '/v2/repository/index',
    generic: endpoint.generic?.path ?? '/',
  }[endpoint.kind];
  return `${endpoint.kind} ${endpoint.kind === 'triton' ? 'POST ' : ''}${endpoint.url}${path}`;
}

/**
 * Asks the model server what it has loaded, bounded in time and size; never throws. A non-2xx
 * status or a body that is not JSON (by its content type, when it names one) is a failure with a
 * sentence naming the URL.
 */
export async function askServer(
  endpoint: ServerEndpoint,
  limits: FetchLimits,
): Promise<InventoryParse> {
  try {
    switch (endpoint.kind) {
      case 'vllm':
        return parseOpenAiModels(
          await getJson(`${endpoint.url}/v1/models`, limits),
          `GET ${endpoint.url}/v1/models`,
        );
      case 'sglang':
        return await askSglang(endpoint.url, limits);
      case 'tgi':
        return parseTgiInfo(
          await getJson(`${endpoint.url}/info`, limits),
          `GET ${endpoint.url}/info`,
        );
      case 'triton':
        return parseTritonIndex(
          await getJson(`${endpoint.url}/v2/repository/index`, limits, '{}'),
          `POST ${endpoint.url}/v2/repository/index`,
        );
      case 'generic': {
        const shape = endpoint.generic as GenericShape & { path: string };
        const url = `${endpoint.url}${shape.path}`;
        return parseGeneric(await getJson(url, limits), shape, `GET ${url}`);
      }
    }
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

/** SGLang: the list from /v1/models, with the base model's path and kind from /get_model_info. */
async function askSglang(url: string, limits: FetchLimits): Promise<InventoryParse> {
  const list = parseOpenAiModels(await getJson(`${url}/v1/models`, limits), `GET ${url}/v1/models`);
  if (!list.ok) return list;
  // Older servers lack /get_model_info; the list alone is still the truth about names.
  const info = await getJson(`${url}/get_model_info`, limits)
    .then((body) => parseSglangModelInfo(body, `GET ${url}/get_model_info`))
    .catch(() => null);
  return info?.ok ? { ok: true, models: withSglangModelInfo(list.models, info.info) } : list;
}

async function getJson(url: string, limits: FetchLimits, postBody?: string): Promise<string> {
  const answer = await fetchBounded(
    url,
    limits,
    postBody === undefined ? {} : { method: 'POST', body: postBody },
  );
  if (answer.status < 200 || answer.status > 299)
    throw new Error(`${url} answered HTTP ${answer.status}`);
  const type = answer.contentType.toLowerCase();
  if (type !== '' && !type.includes('json'))
    throw new Error(`${url} answered ${type.split(';')[0]}, not JSON`);
  return answer.text;
}
