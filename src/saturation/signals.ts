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
  /**
   * Recent mean time requests spent being served, ms — end to end where the server reports no
   * more (what queue and in-flight counts cannot show: a slow replica).
   */
  readonly latency?: Reading;
  /**
   * Requests the server finished per second, recently (not part of the score: it is what weighted
   * round robin divides by utilization to weigh a replica).
   */
  readonly requestRate?: Reading;
  /** Requests the server failed per second, recently (not part of the score). */
  readonly errorRate?: Reading;
  /** The fullest GPU's memory in use, 0–1 (not part of the score: servers reserve it up front). */
  readonly gpuMemory?: Reading;
  /** The host's CPU busy, 0–1 (not part of the score). */
  readonly hostCpu?: Reading;
  /** The host's memory in use, 0–1 (not part of the score). */
  readonly hostMemory?: Reading;
  /** The speed a throttled GPU lost, 0–1: it shrinks what is left of the replica's capacity. */
  readonly throttled?: Reading;
}

/** Load a model server pushes itself (the ReportLoad RPC); absent fields keep their last value. */
export interface PushedLoad {
  readonly queue?: number;
  readonly running?: number;
  readonly kvCache?: number;
  /** Recent mean request latency, ms. */
  readonly latency?: number;
  /** Requests finished per second. */
  readonly requestRate?: number;
  /** Requests failed per second. */
  readonly errorRate?: number;
}
