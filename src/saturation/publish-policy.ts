import type { ReplicaState } from '../report/index.ts';

/** When reports go out. Defaults in {@linkcode DEFAULT_PUBLISH_POLICY}. */
export interface PublishPolicyOptions {
  /** A report at least this often even when nothing changed, ms. */
  readonly heartbeatMs: number;
  /** Never two reports closer than this, ms (a storm cannot flood the broker). */
  readonly minGapMs: number;
  /** A score move at least this large since the last report publishes at once. */
  readonly scoreStep: number;
}

/** Defaults for {@linkcode PublishPolicyOptions}. */
export const DEFAULT_PUBLISH_POLICY: PublishPolicyOptions = Object.freeze({
  heartbeatMs: 5000,
  minGapMs: 50,
  scoreStep: 0.1,
});

/**
 * Decides whether the current assessment should be published now: at once on a state change or
 * a score move of at least `scoreStep` (but not within `minGapMs` of the last report), else as a
 * heartbeat every `heartbeatMs`. Pure: the caller passes the time.
 */
export class PublishPolicy {
  private last: { state: ReplicaState; score: number; at: number } | null = null;

  constructor(private readonly options: PublishPolicyOptions = DEFAULT_PUBLISH_POLICY) {}

  /** Whether to publish `state`/`score` at `now`. */
  due(state: ReplicaState, score: number, now: number): boolean {
    const last = this.last;
    if (last === null) return true;
    const since = now - last.at;
    if (since >= this.options.heartbeatMs) return true;
    if (since < this.options.minGapMs) return false;
    return state !== last.state || Math.abs(score - last.score) >= this.options.scoreStep;
  }

  /** Records that a report went out. */
  published(state: ReplicaState, score: number, now: number): void {
    this.last = { state, score, at: now };
  }

  /** When the next heartbeat is due, or 0 when nothing was published yet. */
  nextHeartbeat(): number {
    return this.last === null ? 0 : this.last.at + this.options.heartbeatMs;
  }
}
