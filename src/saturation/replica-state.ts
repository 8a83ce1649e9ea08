import type { Clock } from '../clock/index.ts';
import type { ReplicaState } from '../report/index.ts';
import { type RawScore, rawScore, smooth } from './score.ts';
import type { Signals } from './signals.ts';
import { checkThresholds, DEFAULT_THRESHOLDS, type Thresholds } from './thresholds.ts';

/** What the state machine looks at on each update. */
export interface StateInputs {
  /** The model server answers its readiness probe (false: unreachable or erroring). */
  readonly healthy: boolean;
  /** The model is loaded and ready to serve (false: loading, or not loaded). */
  readonly ready: boolean;
  /** This host's rules lag the stream, or are older than allowed. */
  readonly rulesStale: boolean;
  /** The sidecar is stopping. */
  readonly draining: boolean;
  readonly signals: Signals;
  /** Requests the server has finished, cumulative (when known), for the first-N-requests warm-up. */
  readonly completed?: number;
}

/** The outcome of one update. */
export interface Assessment {
  readonly state: ReplicaState;
  /** The smoothed score, 0–1. */
  readonly score: number;
  readonly raw: RawScore;
  /** Whether `state` differs from the previous update's. */
  readonly changed: boolean;
}

/**
 * Turns signals into a replica state and a smoothed score, with hysteresis: a replica becomes
 * SATURATED when the smoothed score reaches `saturatedEnter` and leaves only when it falls below
 * `saturatedLeave`, so one near a threshold does not flap. A replica that becomes ready reports
 * WARMING for `warmupMs`, and until it has finished `warmupRequests` requests when that count is
 * known. Precedence: DRAINING, UNHEALTHY, COLD, STALE_RULES, SATURATED,
 * WARMING, READY. Time comes from the injected clock.
 */
export class ReplicaStateMachine {
  private smoothed: number | null = null;
  private saturated = false;
  private readySince: number | null = null;
  /** `completed` when the replica became ready (null: unknown yet). */
  private completedAtReady: number | null = null;
  private completed: number | null = null;
  private state: ReplicaState | null = null;

  constructor(
    private readonly clock: Clock,
    private thresholds: Thresholds = DEFAULT_THRESHOLDS,
  ) {
    checkThresholds(thresholds);
  }

  /**
   * Swaps the thresholds (a config reload); the smoothed score, hysteresis and warm-up progress
   * carry over. @throws {RangeError} for inconsistent thresholds, leaving the old ones in place.
   */
  setThresholds(thresholds: Thresholds): void {
    checkThresholds(thresholds);
    this.thresholds = thresholds;
  }

  /** Feeds the latest inputs and returns the resulting state. */
  update(inputs: StateInputs): Assessment {
    const now = this.clock.now();
    const t = this.thresholds;
    const raw = rawScore(inputs.signals, t, now);
    this.smoothed = smooth(this.smoothed, raw.score, t.smoothing);
    if (!this.saturated && this.smoothed >= t.saturatedEnter) this.saturated = true;
    else if (this.saturated && this.smoothed < t.saturatedLeave) this.saturated = false;
    if (inputs.completed !== undefined) this.completed = inputs.completed;
    if (!inputs.healthy || !inputs.ready) {
      this.readySince = null;
      this.completedAtReady = null;
    } else {
      this.readySince ??= now;
      // The count may only become known after the replica is ready: the first one seen is the baseline.
      this.completedAtReady ??= this.completed;
    }

    const state = this.decide(inputs, now);
    const changed = state !== this.state;
    this.state = state;
    return { state, score: this.smoothed, raw, changed };
  }

  private decide(inputs: StateInputs, now: number): ReplicaState {
    if (inputs.draining) return 'DRAINING';
    if (!inputs.healthy) return 'UNHEALTHY';
    if (!inputs.ready) return 'COLD';
    if (inputs.rulesStale) return 'STALE_RULES';
    if (this.saturated) return 'SATURATED';
    if (this.readySince !== null && now - this.readySince < this.thresholds.warmupMs)
      return 'WARMING';
    if (this.servedSinceReady() < this.thresholds.warmupRequests) return 'WARMING';
    return 'READY';
  }

  /** Requests finished since the replica became ready; unknown counts as enough (no signal, no hold). */
  private servedSinceReady(): number {
    if (this.completed === null || this.completedAtReady === null) return Number.POSITIVE_INFINITY;
    return this.completed - this.completedAtReady;
  }
}
