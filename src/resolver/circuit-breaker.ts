/** Options for {@linkcode CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /**
   * Consecutive failures (errors or time-outs) that open the circuit. Default 2: a healthy
   * replica with a 0.1 % error rate fails twice in a row once in a million pairs.
   */
  readonly failures: number;
  /**
   * The first time it stays open, ms; doubled each time a probe fails. Default 30,000 (Envoy's
   * outlier detection's base ejection time).
   */
  readonly baseMs: number;
  /** The longest it stays open, ms. Default 300,000 (Envoy's maximum ejection time). */
  readonly maxMs: number;
  /** Spread of each open period, ± this fraction. Default 0.2. */
  readonly jitter: number;
  /** Uniform random numbers in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
}

/** Defaults for {@linkcode CircuitBreakerOptions}. */
export const DEFAULT_CIRCUIT_BREAKER: CircuitBreakerOptions = Object.freeze({
  failures: 2,
  baseMs: 30_000,
  maxMs: 300_000,
  jitter: 0.2,
});

/** Where a circuit stands: `closed` (traffic flows), `open` (fenced), `half-open` (one probe). */
export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * One replica's circuit, as one resolver sees it: `failures` consecutive failed requests open it
 * (the replica is fenced whatever its reports say — a dead server can report READY until
 * discovery notices); after a failure, until a success, only one request at a time goes; after a
 * jittered backoff an open circuit lets one probe request through (half-open); the probe's
 * success closes it, its failure opens it again for twice as long (up to `maxMs`). Pure: the
 * caller passes the time.
 */
export class CircuitBreaker {
  private consecutive = 0;
  private openUntil = 0;
  private opens = 0;
  private probing = false;
  private outstanding = 0;
  /** When the latest failed request was sent: a success sent before it says nothing newer. */
  private lastFailureSentAt = Number.NEGATIVE_INFINITY;
  private readonly options: CircuitBreakerOptions;

  constructor(options: Partial<CircuitBreakerOptions> = {}) {
    this.options = { ...DEFAULT_CIRCUIT_BREAKER, ...options };
  }

  /** The state at `now`. */
  state(now: number): CircuitState {
    if (this.opens === 0) return 'closed';
    return now < this.openUntil ? 'open' : 'half-open';
  }

  /**
   * Whether a request may go now: never when open; one probe at a time when half-open; when
   * closed, always — except after a failure, when one request at a time goes until one succeeds
   * (so requests already on their way cannot all fail before the circuit opens).
   */
  allows(now: number): boolean {
    const state = this.state(now);
    if (state === 'open') return false;
    if (state === 'half-open') return !this.probing;
    return this.consecutive === 0 || this.outstanding === 0;
  }

  /** A request was sent at `now` (in half-open, it is the probe). */
  sent(now: number): void {
    this.outstanding++;
    if (this.state(now) === 'half-open') this.probing = true;
  }

  /**
   * A request sent at `sentAt` ended at `now`: `ok`, or failed (an error or a time-out). A
   * success only counts when the request was sent after the latest failure (one sent before the
   * replica broke may still come back fine, and says nothing about it now).
   */
  ended(ok: boolean, now: number, sentAt = now): void {
    this.outstanding = Math.max(0, this.outstanding - 1);
    const state = this.state(now);
    if (ok) {
      if (sentAt < this.lastFailureSentAt) return;
      if (state !== 'open') {
        this.consecutive = 0;
        this.opens = 0;
        this.probing = false;
      }
      return;
    }
    this.consecutive++;
    this.lastFailureSentAt = Math.max(this.lastFailureSentAt, sentAt);
    if (state === 'half-open' || (state === 'closed' && this.consecutive >= this.options.failures))
      this.open(now);
  }

  /** How long it stays open from `now`, ms (0 unless open). */
  remainingMs(now: number): number {
    return this.state(now) === 'open' ? this.openUntil - now : 0;
  }

  private open(now: number): void {
    const { baseMs, maxMs, jitter } = this.options;
    const random = this.options.random ?? Math.random;
    const period = Math.min(maxMs, baseMs * 2 ** this.opens);
    this.opens++;
    this.probing = false;
    this.openUntil = now + period * (1 + jitter * (2 * random() - 1));
  }
}
