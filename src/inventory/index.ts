/**
 * What the model server on this host has actually loaded: its answers parsed (vLLM, SGLang, TGI,
 * Triton, any JSON), rule-set models judged against them (served name, revision, LoRA adapters
 * and whose they are), and the static `[[models]]` list for hosts that configure one. Pure.
 * @module
 */

export { ANY_REVISION, type DriftItem, DriftWatch } from './drift.ts';
export {
  atRevision,
  indexServed,
  judgeServed,
  type ServedIndex,
  servedName,
} from './judge-served.ts';
export { LiveInventory } from './live-inventory.ts';
export { type LoadedModel, type ModelInventory, StaticModelInventory } from './model-inventory.ts';
export { type GenericShape, parseGeneric } from './parse-generic.ts';
export { parseOpenAiModels } from './parse-openai-models.ts';
export {
  parseSglangModelInfo,
  type SglangModelInfo,
  withSglangModelInfo,
} from './parse-sglang-model-info.ts';
export { parseTgiInfo } from './parse-tgi-info.ts';
export { parseTritonIndex } from './parse-triton-index.ts';
export { vllmErrorMessage } from './parse-vllm-error.ts';
export {
  describeServability,
  reconcile,
  type Servability,
  type UnservableKey,
} from './reconcile.ts';
export {
  type InventoryParse,
  type LoadState,
  MAX_FIELD_LENGTH,
  MAX_SERVED_MODELS,
  type ServedModel,
} from './served-model.ts';
export { UNSERVABLE_CODES, type Unservable, type UnservableCode } from './unservable.ts';
