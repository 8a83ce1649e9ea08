/** Why untrusted bytes could not be decoded into a plain value. */
export type DecodeErrorKind =
  | 'TOO_LARGE'
  | 'UNKNOWN_ENCODING'
  | 'MALFORMED'
  | 'TOO_DEEP'
  | 'FORBIDDEN_KEY'
  | 'ILL_FORMED_STRING'
  | 'EXTENSION_TYPE'
  | 'UNSAFE_INTEGER';

/** A decoding failure: what kind, where (JSON pointer, `""` for the whole input), and a sentence. */
export interface DecodeError {
  readonly kind: DecodeErrorKind;
  readonly path: string;
  readonly message: string;
}

/** The outcome of decoding: a plain JSON-like value, or the reason it was refused. */
export type DecodeResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: DecodeError };

/** Limits applied to untrusted input before and while decoding it. */
export interface DecodeLimits {
  /** Largest accepted input in bytes, checked before any decoding. */
  readonly maxBytes: number;
  /** Deepest accepted nesting of arrays and maps (the top-level value is depth 1). */
  readonly maxDepth: number;
}

/** Keys refused anywhere in untrusted documents: they reach object prototypes in careless consumers. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
]);

/** Builds a failed {@linkcode DecodeResult}. */
export function decodeFailure(kind: DecodeErrorKind, path: string, message: string): DecodeResult {
  return { ok: false, error: { kind, path, message } };
}
