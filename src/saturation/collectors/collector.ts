import type { Signals } from '../signals.ts';

/** What one collector adds to the replica's picture when the monitor evaluates it. */
export interface Contribution {
  /** Load signals; a signal another collector also gives is taken from the later collector. */
  readonly signals?: Signals;
  /**
   * Set only by a collector that judges the server's health and readiness (a readiness probe);
   * without one, the server counts as healthy and the configured models say whether it is ready.
   */
  readonly readiness?: { readonly healthy: boolean; readonly ready: boolean };
  /** Requests the server has finished, cumulative, for the first-N-requests warm-up. */
  readonly completed?: number;
  /** Hardware faults (a lost GPU, uncorrectable ECC errors…): each makes the replica UNHEALTHY. */
  readonly faults?: readonly string[];
  /** Active slowdowns (`GPU 0: hw_thermal_slowdown`), for the log. */
  readonly slowdowns?: readonly string[];
  /**
   * Set only by the canary check: whether a real request has proved the server can serve (until
   * then the replica is COLD), and whether it has failed so often the replica is UNHEALTHY.
   */
  readonly canary?: { readonly proven: boolean; readonly unhealthy: boolean };
}

/** An impossible value a source reported, and what was made of it. */
export interface Correction {
  readonly signal: string;
  /** What the source said (NaN and infinities included). */
  readonly value: number;
  /** What was used instead: a bound, or `null` when the value was dropped (no signal). */
  readonly became: number | null;
}

/** What a collector reports after each attempt to sample. */
export interface CollectorUpdate {
  /** The last failure, if the latest attempt failed. */
  readonly error?: string;
  readonly consecutiveFailures: number;
  /** When the last good sample was taken, ms since the epoch. */
  readonly at?: number;
  /** The source does not exist on this host (e.g. no nvidia-smi): the collector stopped for good. */
  readonly absent?: boolean;
  /** Impossible values in the latest good sample, and what was made of them. */
  readonly corrections?: readonly Correction[];
}

/**
 * A source of replica signals with a life of its own (its own schedule, its own failures), as
 * node_exporter registers collectors: the {@linkcode SaturationMonitor} is given a list of them,
 * starts and stops them, and asks each for its {@linkcode Contribution} when it evaluates.
 */
export interface Collector {
  /** A short stable name, used in logs and the `collector` metric label. */
  readonly name: string;
  /** Starts sampling; `onUpdate` is told after every attempt, good or failed. */
  start(onUpdate?: (update: CollectorUpdate) => void): void;
  /** Stops sampling. Idempotent. */
  stop(): void;
  /** What the latest good sample adds now (empty before the first one). */
  contribution(): Contribution;
  /** When the last good sample was taken, ms since the epoch, or `undefined` before one. */
  lastSampleAt(): number | undefined;
}

/**
 * Thrown by a sampler whose source is not on this host at all (as opposed to failing): the
 * collector stops for good and its signal is simply absent, which is not counted as a failure.
 */
export class SourceAbsentError extends Error {
  override readonly name: string = 'SourceAbsentError';
}
