/** Options for {@linkcode Backoff}; all durations in milliseconds. */
export interface BackoffOptions {
  /** First delay. Default 200. */
  readonly initialMs: number;
  /** Largest delay. Default 30 000. */
  readonly maxMs: number;
  /** Growth per failure. Default 2. */
  readonly multiplier: number;
  /** Fraction of each delay that is randomised away, 0–1. Default 0.5. */
  readonly jitter: number;
}

/** Defaults for {@linkcode BackoffOptions}. */
export const DEFAULT_BACKOFF: BackoffOptions = Object.freeze({
  initialMs: 200,
  maxMs: 30_000,
  multiplier: 2,
  jitter: 0.5,
});

/**
 * Exponential backoff with jitter: the n-th consecutive failure waits
 * `min(max, initial·multiplier^n) · (1 − jitter·r)` for r uniform in [0,1), so a fleet that lost
 * its broker at the same instant does not come back in lock-step.
 */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly options: BackoffOptions = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt; counts one more failure. */
  next(): number {
    const { initialMs, maxMs, multiplier, jitter } = this.options;
    const ceiling = Math.min(maxMs, initialMs * multiplier ** this.failures);
    this.failures++;
    return Math.round(ceiling * (1 - jitter * this.random()));
  }

  /** Forgets past failures (after a connection that worked). */
  reset(): void {
    this.failures = 0;
  }

  /** Consecutive failures counted so far. */
  get attempts(): number {
    return this.failures;
  }
}
