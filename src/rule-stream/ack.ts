import { isoTime } from '../clock/index.ts';
import type { ApplyOutcome } from '../rules/index.ts';

/**
 * What a replica says about the last rule message it received for a tenant, published retained
 * to `{prefix}/acks/{tenant}/{replica}` as JSON (see `ack.schema.json`). Like an xDS ACK/NACK:
 * `applied` and `unchanged` accept the version, `rejected` refuses it and keeps `activeVersion`.
 */
export interface AckDocument {
  readonly tenant: string;
  readonly replica: string;
  readonly cluster: string;
  /** Version named by the message, or `null` when it could not be read that far. */
  readonly receivedVersion: number | null;
  readonly status: 'applied' | 'unchanged' | 'rejected';
  /** The version in force after this message (`null`: no rules yet). */
  readonly activeVersion: number | null;
  /** Rejection code (`rejected` only). */
  readonly code?: string;
  /** JSON pointer into the rule set (`rejected` only). */
  readonly path?: string;
  /** Human explanation of a rejection, or of a persistence failure. */
  readonly reason?: string;
  /**
   * Whether the version in force after this message (`activeVersion`) is durable on disk as
   * last-known-good. False while a full or read-only disk keeps it from being written; filament
   * keeps retrying and publishes the ACK again with `true` once it is.
   */
  readonly persisted: boolean;
  /** ISO time of the decision (or of the last change in `serving`). */
  readonly at: string;
  /** What this host can serve of `activeVersion` now (see {@linkcode AckServing}). */
  readonly serving?: AckServing;
  /**
   * True when this message is the complete set the host took from `{prefix}/rules/{tenant}/full`
   * because it could not apply a delta (not on its base).
   */
  readonly fetchedFull?: boolean;
}

/**
 * What a host can serve of its active rule version, against what its model server has loaded.
 * An applied set that names a model this host lacks stays an ACK; this says what is missing.
 */
export interface AckServing {
  readonly objectives: number;
  readonly unservableObjectives: number;
  /** At most {@linkcode MAX_ACK_UNSERVABLE} routing keys this host cannot serve, with why. */
  readonly unservable: ReadonlyArray<{
    readonly routingKey: string;
    readonly model: string;
    readonly code: string;
    readonly reason: string;
  }>;
  readonly summary: string;
}

/** Most unservable routing keys listed in one ACK (the count is always whole). */
export const MAX_ACK_UNSERVABLE = 20;

/** Identity fields every ACK carries. */
export interface AckIdentity {
  readonly tenant: string;
  readonly replica: string;
  readonly cluster: string;
}

/**
 * Builds the ACK/NACK document for an outcome. `durability` says whether the version in force
 * after it (the new one, or for a NACK the one kept) is on disk; `reason` then says why not.
 */
export function buildAck(
  identity: AckIdentity,
  outcome: Exclude<ApplyOutcome, { status: 'needs-full' }>,
  at: number,
  durability: { readonly persisted: boolean; readonly error?: string } = { persisted: true },
): AckDocument {
  const base = { ...identity, receivedVersion: outcome.version, at: isoTime(at) };
  if (outcome.status === 'rejected') {
    const r = outcome.rejection;
    return {
      ...base,
      status: 'rejected',
      activeVersion: outcome.activeVersion,
      code: r.code,
      path: r.path,
      reason: r.message,
      persisted: durability.persisted,
    };
  }
  return {
    ...base,
    status: outcome.status,
    activeVersion: outcome.version,
    persisted: durability.persisted,
    ...(durability.persisted ? {} : { reason: `applied but not persisted: ${durability.error}` }),
  };
}
