/**
 * Why a request's ObjectiveConfig carrier could not be read: missing, sent twice, too large, or
 * not what the contract says (docs/wire-contracts.md#the-objectiveconfig-on-a-request).
 */
export type CarrierProblem =
  | 'CARRIER_MISSING'
  | 'CARRIER_DUPLICATED'
  | 'CARRIER_TOO_LARGE'
  | 'CARRIER_MALFORMED';

/** A carrier refused: the problem's code and one sentence naming what was wrong. */
export interface CarrierError {
  readonly code: CarrierProblem;
  readonly message: string;
}

/** The result of reading a carrier. */
export type CarrierResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: CarrierError };

/** A refusal of `code`, saying `message`. */
export function carrierError<T>(code: CarrierProblem, message: string): CarrierResult<T> {
  return { ok: false, error: { code, message } };
}
