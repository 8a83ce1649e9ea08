/** Why a model cannot serve on this host now; each is also a validation reason code. */
export const UNSERVABLE_CODES = [
  'MODEL_NOT_LOADED',
  'MODEL_NOT_READY',
  'MODEL_VERSION_MISMATCH',
  'ADAPTER_NOT_LOADED',
  'ADAPTER_BASE_MISMATCH',
  'ADAPTER_NOT_OURS',
  'INVENTORY_UNCONFIRMED',
] as const;

/** One of {@linkcode UNSERVABLE_CODES}. */
export type UnservableCode = (typeof UNSERVABLE_CODES)[number];

/** Why a model cannot serve here: a stable code and a sentence naming the model and the cause. */
export interface Unservable {
  readonly code: UnservableCode;
  readonly message: string;
}
