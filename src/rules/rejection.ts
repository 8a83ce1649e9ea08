/**
 * Why a rule message was refused. Each code is stable and documented; it travels in NACKs
 * and logs so authors can fix the right thing.
 */
export const REJECTION_CODES = [
  'TOO_LARGE',
  'UNKNOWN_ENCODING',
  'MALFORMED',
  'TOO_DEEP',
  'FORBIDDEN_KEY',
  'ILL_FORMED_STRING',
  'EXTENSION_TYPE',
  'UNSAFE_INTEGER',
  'SCHEMA',
  'DUPLICATE_ID',
  'DANGLING_REFERENCE',
  'BAD_ALLOCATION',
  'ROUTING_CONFLICT',
  'INVALID_PAYLOAD_SCHEMA',
  'TENANT_MISMATCH',
  'EXPIRED',
  'ISSUED_IN_FUTURE',
  'VERSION_REGRESSION',
  'VERSION_CONFLICT',
  'UNSIGNED',
  'BAD_ENVELOPE',
  'SIGNATURE',
  'NO_EXPIRY',
  'BAD_PATCH',
  'DIGEST_MISMATCH',
  'INTERNAL',
] as const;

/** One of {@linkcode REJECTION_CODES}. */
export type RejectionCode = (typeof REJECTION_CODES)[number];

/** A refused rule message: a stable code, a JSON pointer into the document, and a sentence. */
export interface Rejection {
  readonly code: RejectionCode;
  /** JSON pointer to the offending value; `""` for the message as a whole. */
  readonly path: string;
  readonly message: string;
}

/** Builds a {@linkcode Rejection}. */
export function reject(code: RejectionCode, path: string, message: string): Rejection {
  return { code, path, message };
}

/** Renders a rejection as one line: `SCHEMA at /models/0/cluster: must match pattern …`. */
export function formatRejection(r: Rejection): string {
  return r.path === '' ? `${r.code}: ${r.message}` : `${r.code} at ${r.path}: ${r.message}`;
}

/** A result that is either a value or a {@linkcode Rejection}. */
export type Checked<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly rejection: Rejection };

/** Wraps a value as a successful {@linkcode Checked}. */
export function accepted<T>(value: T): Checked<T> {
  return { ok: true, value };
}

/** Wraps a rejection as a failed {@linkcode Checked}. */
export function refused<T>(rejection: Rejection): Checked<T> {
  return { ok: false, rejection };
}
