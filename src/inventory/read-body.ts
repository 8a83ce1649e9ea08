import { inspectTree } from '../codec/index.ts';
import { type InventoryParse, MAX_FIELD_LENGTH, MAX_SERVED_MODELS } from './served-model.ts';

/** Nesting deeper than this in a model server's answer is refused. */
const MAX_DEPTH = 16;

/**
 * Parses a model server's JSON answer with filament's hostile-input rules: valid JSON, no
 * forbidden keys, nesting at most 16. Returns the value or a parse failure naming what was wrong.
 */
export function readJsonBody(
  text: string,
  what: string,
): { ok: true; value: unknown } | { ok: false; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `${what} is not JSON: ${(error as Error).message}` };
  }
  const problem = inspectTree(value, MAX_DEPTH);
  if (problem && !problem.ok) return { ok: false, error: `${what}: ${problem.error.message}` };
  return { ok: true, value };
}

/** A plain object, or `null`. */
export function asRecord(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/** A non-empty string of at most {@linkcode MAX_FIELD_LENGTH} characters, or `undefined`. */
export function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_FIELD_LENGTH
    ? value
    : undefined;
}

/** A positive safe integer, or `undefined`. */
export function positiveInteger(value: unknown): number | undefined {
  return Number.isSafeInteger(value) && (value as number) > 0 ? (value as number) : undefined;
}

/** Refuses a list longer than {@linkcode MAX_SERVED_MODELS}. */
export function tooMany(length: number, what: string): InventoryParse | null {
  return length > MAX_SERVED_MODELS
    ? { ok: false, error: `${what} lists ${length} models; at most ${MAX_SERVED_MODELS} are read` }
    : null;
}
