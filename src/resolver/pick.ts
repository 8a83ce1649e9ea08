import type { ReplicaState } from '../saturation/index.ts';
import type { ReplicaEntry } from './replica-table.ts';

/** Options for {@linkcode pickReplica}. */
export interface PickOptions {
  /** Uniform random numbers in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
  /**
   * Share of normal traffic a WARMING replica should get, 0–1 (slow start). Implemented by
   * treating its score as at least `1 − weight` when comparing. Default 0.5.
   */
  readonly warmingWeight?: number;
}

/** States a replica may be picked in normally. */
const ELIGIBLE: ReadonlySet<ReplicaState> = new Set(['READY', 'WARMING']);

// When everything is excluded, the least bad: an overloaded replica still serves; one with stale
// rules may misjudge requests; a cold, draining or unhealthy one cannot serve well at all.
const FAIL_OPEN_ORDER: Readonly<Record<ReplicaState, number>> = {
  READY: 0,
  WARMING: 1,
  SATURATED: 2,
  STALE_RULES: 3,
  DRAINING: 4,
  COLD: 5,
  UNHEALTHY: 6,
  OFFLINE: 99,
};

/**
 * Power of two choices on score among READY and WARMING replicas (WARMING weighted down for
 * slow start); COLD, STALE_RULES, DRAINING, OFFLINE, SATURATED and UNHEALTHY are excluded. When
 * all are excluded it fails open to the least bad (by state, then score); OFFLINE never serves.
 * Returns `undefined` only when there is nothing to pick.
 */
export function pickReplica(
  replicas: readonly ReplicaEntry[],
  options: PickOptions = {},
): ReplicaEntry | undefined {
  const random = options.random ?? Math.random;
  const floor = 1 - (options.warmingWeight ?? 0.5);
  const eligible = replicas.filter((r) => ELIGIBLE.has(r.report.state));
  if (eligible.length === 0) return failOpen(replicas);
  if (eligible.length === 1) return eligible[0];
  const first = Math.floor(random() * eligible.length);
  let second = Math.floor(random() * (eligible.length - 1));
  if (second >= first) second++;
  const a = eligible[first] as ReplicaEntry;
  const b = eligible[second] as ReplicaEntry;
  const load = (r: ReplicaEntry) =>
    r.report.state === 'WARMING' ? Math.max(r.report.score, floor) : r.report.score;
  return load(b) < load(a) ? b : a;
}

function failOpen(replicas: readonly ReplicaEntry[]): ReplicaEntry | undefined {
  let best: ReplicaEntry | undefined;
  for (const r of replicas) {
    if (r.report.state === 'OFFLINE') continue;
    if (
      best === undefined ||
      FAIL_OPEN_ORDER[r.report.state] < FAIL_OPEN_ORDER[best.report.state] ||
      (FAIL_OPEN_ORDER[r.report.state] === FAIL_OPEN_ORDER[best.report.state] &&
        r.report.score < best.report.score)
    ) {
      best = r;
    }
  }
  return best;
}
