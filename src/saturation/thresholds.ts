/**
 * How signals turn into a score and a state. Defaults in {@linkcode DEFAULT_THRESHOLDS};
 * documented in the README ("Saturation").
 */
export interface Thresholds {
  /** Queue depth that counts as full (score component 1.0). */
  readonly maxQueue: number;
  /** In-flight requests that count as full. */
  readonly maxConcurrency: number;
  /** Smoothed score at or above which a replica becomes SATURATED. */
  readonly saturatedEnter: number;
  /** Smoothed score below which a SATURATED replica becomes READY again (< saturatedEnter: hysteresis). */
  readonly saturatedLeave: number;
  /** Weight of the newest raw score in the exponential moving average, 0 < alpha ≤ 1. */
  readonly smoothing: number;
  /** After becoming ready, how long a replica reports WARMING, ms. */
  readonly warmupMs: number;
  /** After becoming ready, a replica also reports WARMING until it has finished this many requests (0: off). */
  readonly warmupRequests: number;
  /** A signal older than this is stale: it counts as saturated and is flagged, ms. */
  readonly staleAfterMs: number;
  /**
   * Mean request latency that counts as full, ms; 0 leaves latency out of the score. Set it to
   * about twice the healthy latency so a replica that has become slow reads as saturated.
   */
  readonly latencyTargetMs: number;
}

/** Defaults for {@linkcode Thresholds}. */
export const DEFAULT_THRESHOLDS: Thresholds = Object.freeze({
  maxQueue: 16,
  maxConcurrency: 64,
  saturatedEnter: 0.85,
  saturatedLeave: 0.7,
  smoothing: 0.5,
  warmupMs: 30_000,
  warmupRequests: 0,
  staleAfterMs: 2_000,
  latencyTargetMs: 0,
});

/** @throws {RangeError} naming the first threshold that is out of range. */
export function checkThresholds(t: Thresholds): void {
  if (!(t.maxQueue > 0)) throw new RangeError(`maxQueue must be > 0 (got ${t.maxQueue})`);
  if (!(t.maxConcurrency > 0))
    throw new RangeError(`maxConcurrency must be > 0 (got ${t.maxConcurrency})`);
  if (!(t.saturatedEnter > 0 && t.saturatedEnter <= 1))
    throw new RangeError(`saturatedEnter must be in (0, 1] (got ${t.saturatedEnter})`);
  if (!(t.saturatedLeave >= 0 && t.saturatedLeave < t.saturatedEnter)) {
    throw new RangeError(`saturatedLeave must be in [0, saturatedEnter) (got ${t.saturatedLeave})`);
  }
  if (!(t.smoothing > 0 && t.smoothing <= 1))
    throw new RangeError(`smoothing must be in (0, 1] (got ${t.smoothing})`);
  if (!(t.warmupMs >= 0)) throw new RangeError(`warmupMs must be ≥ 0 (got ${t.warmupMs})`);
  if (!(t.staleAfterMs > 0))
    throw new RangeError(`staleAfterMs must be > 0 (got ${t.staleAfterMs})`);
  if (!(t.latencyTargetMs >= 0))
    throw new RangeError(`latencyTargetMs must be ≥ 0 (got ${t.latencyTargetMs})`);
}
