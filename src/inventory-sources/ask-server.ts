import { type FetchedBody, type FetchLimits, fetchBounded } from '../http-client/index.ts';
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
import { askKserveReady, type WantedModel } from './ask-kserve-ready.ts';

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
  wanted: () => readonly WantedModel[] = () => [],
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
        return await askTriton(endpoint.url, limits, wanted);
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

/**
 * Triton: the repository index. A KServe v2 server without that extension (404, 405 or 501)
 * is asked per model instead, for the models the rules route here.
 */
async function askTriton(
  url: string,
  limits: FetchLimits,
  wanted: () => readonly WantedModel[],
): Promise<InventoryParse> {
  const index = `${url}/v2/repository/index`;
  const answer = await fetchBounded(index, limits, { method: 'POST', body: '{}' });
  if (answer.status === 404 || answer.status === 405 || answer.status === 501)
    return askKserveReady(url, wanted(), limits);
  return parseTritonIndex(checkedJson(index, answer), `POST ${index}`);
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

async function getJson(url: string, limits: FetchLimits): Promise<string> {
  return checkedJson(url, await fetchBounded(url, limits));
}

/** The body of a 2xx JSON answer; throws naming the URL otherwise. */
function checkedJson(url: string, answer: FetchedBody): string {
  if (answer.status < 200 || answer.status > 299)
    throw new Error(`${url} answered HTTP ${answer.status}`);
  const type = answer.contentType.toLowerCase();
  if (type !== '' && !type.includes('json'))
    throw new Error(`${url} answered ${type.split(';')[0]}, not JSON`);
  return answer.text;
}
