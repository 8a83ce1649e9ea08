/** One measured value and when it was measured (ms since the epoch). */
export interface Reading {
  readonly value: number;
  readonly at: number;
}

/**
 * The latest load signals of a replica. A missing field means "no data" (that source is not
 * configured, or nvidia-smi is absent), which is different from a stale reading (a source that
 * stopped answering): only the latter counts against the replica.
 */
export interface Signals {
  /** Requests waiting to be scheduled. */
  readonly queue?: Reading;
  /** Requests running (in flight). */
  readonly running?: Reading;
  /** KV-cache use, 0–1. */
  readonly kvCache?: Reading;
  /** GPU utilisation, 0–1. */
  readonly gpu?: Reading;
}

/** Names of the {@linkcode Signals} fields. */
export const SIGNAL_NAMES = ['queue', 'running', 'kvCache', 'gpu'] as const;

/** One of {@linkcode SIGNAL_NAMES}. */
export type SignalName = (typeof SIGNAL_NAMES)[number];
