import { asRecord, readJsonBody, text } from './read-body.ts';
import type { ServedModel } from './served-model.ts';

/** What SGLang's `GET /get_model_info` adds to its `/v1/models` list. */
export interface SglangModelInfo {
  readonly modelPath?: string;
  readonly kind?: 'generation' | 'embedding';
  /** `weight_version`, when it is not SGLang's `default`. */
  readonly weightVersion?: string;
}

/**
 * SGLang's `GET /get_model_info` (0.4: model_path, tokenizer_path, is_generation; 0.5 adds
 * weight_version and more): the base model's path, whether it generates or embeds, and the
 * weight version an online weight update set.
 */
export function parseSglangModelInfo(
  body: string,
  what = 'GET /get_model_info',
): { ok: true; info: SglangModelInfo } | { ok: false; error: string } {
  const read = readJsonBody(body, what);
  if (!read.ok) return read;
  const info = asRecord(read.value);
  if (!info) return { ok: false, error: `${what} is not an object` };
  const modelPath = text(info.model_path);
  const weightVersion = text(info.weight_version);
  const generation = info.is_generation;
  return {
    ok: true,
    info: {
      ...(modelPath !== undefined ? { modelPath } : {}),
      ...(typeof generation === 'boolean'
        ? { kind: generation ? ('generation' as const) : ('embedding' as const) }
        : {}),
      ...(weightVersion !== undefined && weightVersion !== 'default' ? { weightVersion } : {}),
    },
  };
}

/** Adds SGLang's model info to the base models (not the adapters) of its `/v1/models` list. */
export function withSglangModelInfo(
  models: readonly ServedModel[],
  info: SglangModelInfo,
): ServedModel[] {
  return models.map((m) =>
    m.parent !== undefined
      ? m
      : {
          ...m,
          ...(info.modelPath !== undefined && m.root === undefined ? { root: info.modelPath } : {}),
          ...(info.kind !== undefined ? { kind: info.kind } : {}),
          ...(info.weightVersion !== undefined ? { revision: info.weightVersion } : {}),
        },
  );
}
