import type { TargetRole } from './target-role.ts';

/**
 * Why a request was judged invalid. Stable: they travel in gRPC responses and metrics.
 * `HOST_BEHIND` is the host's problem (it has not applied the version the resolver used yet),
 * not the request's.
 */
export const REASON_CODES = [
  'INVALID_ARGUMENT',
  'UNKNOWN_TENANT',
  'RULE_VERSION_TOO_OLD',
  'HOST_BEHIND',
  'RULE_VERSION_UNKNOWN',
  'UNKNOWN_OBJECTIVE',
  'UNKNOWN_MODEL',
  'NOT_A_TARGET',
  'UNKNOWN_CELL',
  'MODEL_VERSION_MISMATCH',
  'ROUTING_KEY_MISMATCH',
  'ROUTING_KEY_NOT_SERVED',
  'SCHEMA_MISMATCH',
  'MODEL_NOT_LOADED',
  'MODEL_NOT_READY',
  'PAYLOAD_UNDECODABLE',
  'PAYLOAD_INVALID',
  'ADAPTER_NOT_LOADED',
  'ADAPTER_BASE_MISMATCH',
  'ADAPTER_NOT_OURS',
  'INVENTORY_UNCONFIRMED',
] as const;

/** One of {@linkcode REASON_CODES}. */
export type ReasonCode = (typeof REASON_CODES)[number];

/** What happened to the payload of an accepted request. */
export type PayloadOutcome = 'none' | 'off' | 'sampled-out' | 'checked';

/** An accepted request: the rule version it was judged against and the model's role in the objective. */
export interface Accepted {
  readonly ok: true;
  readonly ruleVersion: number;
  readonly role: TargetRole;
  readonly payload: PayloadOutcome;
}

/** A refused request: a stable code, a sentence, and where the problem is. */
export interface Refused {
  readonly ok: false;
  readonly code: ReasonCode;
  readonly message: string;
  /** The ObjectiveConfig field at fault, when there is one (e.g. `ruleVersion`). */
  readonly field?: string;
  /** JSON pointer into the payload (`PAYLOAD_INVALID`, `PAYLOAD_UNDECODABLE`). */
  readonly path?: string;
  /** The JSON Schema keyword the payload violated (`PAYLOAD_INVALID`). */
  readonly keyword?: string;
}

/** The outcome of validating one request. */
export type Verdict = Accepted | Refused;

/** Builds a {@linkcode Refused}. */
export function refuse(code: ReasonCode, message: string, field?: string): Refused {
  return field === undefined ? { ok: false, code, message } : { ok: false, code, message, field };
}
