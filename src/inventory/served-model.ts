/** Whether a model the server lists can take requests. */
export type LoadState = 'ready' | 'loading' | 'unavailable';

/**
 * One model (or LoRA adapter) as the model server itself describes it: the name requests use,
 * what it was loaded from and which revision, and whether it is ready.
 */
export interface ServedModel {
  /** The name requests use: vLLM/SGLang served model name, TGI model_id, Triton model name. */
  readonly name: string;
  /** What makes it that version: TGI model_sha, a Triton model version, SGLang weight_version. */
  readonly revision?: string;
  /** Where it was loaded from: the vLLM/SGLang root (a path or hub id), SGLang model_path. */
  readonly root?: string;
  /** For a LoRA adapter: its base model's served name. */
  readonly parent?: string;
  readonly state: LoadState;
  /** Why it is not ready, as the server says (Triton's reason). */
  readonly reason?: string;
  /** Longest context the server accepts for it, tokens (vLLM max_model_len, TGI max_total_tokens). */
  readonly maxContextTokens?: number;
  /** Generation or embedding (SGLang is_generation). */
  readonly kind?: 'generation' | 'embedding';
}

/** A server answer turned into models, or why it could not be. */
export type InventoryParse =
  | { readonly ok: true; readonly models: readonly ServedModel[]; readonly server?: string }
  | { readonly ok: false; readonly error: string };

/** Most entries one answer may list; more is refused (a hostile or broken server). */
export const MAX_SERVED_MODELS = 10_000;
/** Longest name, root, revision or reason kept, characters. */
export const MAX_FIELD_LENGTH = 1024;
