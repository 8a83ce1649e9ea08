/** Options for {@linkcode CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive failures (errors or time-outs) that open the circuit. Default 3. */
  readonly failures: number;
  /** The first time it stays open, ms; doubled each time a probe fails. Default 10,000. */
  readonly baseMs: number;
  /** The longest it stays open, ms. Default 60,000. */
  readonly maxMs: number;
  /** Spread of each open period, ± this fraction. Default 0.2. */
  readonly jitter: number;
  /** Uniform random numbers in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
}

/** Defaults for {@linkcode CircuitBreakerOptions}. */
export const DEFAULT_CIRCUIT_BREAKER: CircuitBreakerOptions = Object.freeze({
  failures: 3,
  baseMs: 10_000,
  maxMs: 60_000,
  jitter: 0.2,
});

/** Where a circuit stands: `closed` (traffic flows), `open` (fenced), `half-open` (one probe). */
export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * One replica's circuit, as one resolver sees it: `failures` consecutive failed requests open it
 * (the replica is fenced whatever its reports say — a dead server can report READY until
 * discovery notices); after a jittered backoff it lets one probe request through (half-open); the
 * probe's success closes it, its failure opens it again for twice as long (up to `maxMs`). Pure:
 * the caller passes the time.
 */
export class CircuitBreaker {
  private consecutive = 0;
  private openUntil = 0;
  private opens = 0;
  private probing = false;
  private readonly options: CircuitBreakerOptions;

  constructor(options: Partial<CircuitBreakerOptions> = {}) {
    this.options = { ...DEFAULT_CIRCUIT_BREAKER, ...options };
  }

  /** The state at `now`. */
  state(now: number): CircuitState {
    if (this.opens === 0) return 'closed';
    return now < this.openUntil ? 'open' : 'half-open';
  }

  /** Whether a request may go now: always when closed, never when open, one probe when half-open. */
  allows(now: number): boolean {
    const state = this.state(now);
    return state === 'closed' || (state === 'half-open' && !this.probing);
  }

  /** A request was sent at `now` (in half-open, it is the probe). */
  sent(now: number): void {
    if (this.state(now) === 'half-open') this.probing = true;
  }

  /** A request ended: `ok`, or failed (an error or a time-out). */
  ended(ok: boolean, now: number): void {
    const state = this.state(now);
    if (ok) {
      if (state !== 'open') {
        this.consecutive = 0;
        this.opens = 0;
        this.probing = false;
      }
      return;
    }
    this.consecutive++;
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
