import type { ReplicaState } from '../report/index.ts';
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
 * all are excluded it fails open to the least bad state class present, still choosing by score
 * between two at random so the load spreads over that class; OFFLINE never serves. Between two
 * of equal score, the one with fewer requests waiting and running wins.
 * Returns `undefined` only when there is nothing to pick.
 */
export function pickReplica(
  replicas: readonly ReplicaEntry[],
  options: PickOptions = {},
): ReplicaEntry | undefined {
  const random = options.random ?? Math.random;
  const floor = 1 - (options.warmingWeight ?? 0.5);
  const eligible = replicas.filter((r) => ELIGIBLE.has(r.report.state));
  const load = (r: ReplicaEntry) =>
    r.report.state === 'WARMING' ? Math.max(r.report.score, floor) : r.report.score;
  if (eligible.length > 0) return twoChoices(eligible, load, random);
  // Fail open: the best state class still there, spread by score (not all on one replica).
  let bestOrder = Number.POSITIVE_INFINITY;
  for (const r of replicas)
    if (r.report.state !== 'OFFLINE')
      bestOrder = Math.min(bestOrder, FAIL_OPEN_ORDER[r.report.state]);
  const leastBad = replicas.filter(
    (r) => r.report.state !== 'OFFLINE' && FAIL_OPEN_ORDER[r.report.state] === bestOrder,
  );
  return leastBad.length === 0 ? undefined : twoChoices(leastBad, (r) => r.report.score, random);
}

function twoChoices(
  candidates: readonly ReplicaEntry[],
  load: (r: ReplicaEntry) => number,
  random: () => number,
): ReplicaEntry {
  if (candidates.length === 1) return candidates[0] as ReplicaEntry;
  const first = Math.floor(random() * candidates.length);
  let second = Math.floor(random() * (candidates.length - 1));
  if (second >= first) second++;
  const a = candidates[first] as ReplicaEntry;
  const b = candidates[second] as ReplicaEntry;
  const la = load(a);
  const lb = load(b);
  // Equal scores (both full, say: a latency over its target everywhere in a burst) say nothing;
  // the requests each has waiting and running still do.
  if (lb === la) return pending(b) < pending(a) ? b : a;
  return lb < la ? b : a;
}

/** Requests a replica reported waiting and running (0 when it reported neither). */
function pending(r: ReplicaEntry): number {
  return (r.report.queue ?? 0) + (r.report.running ?? 0);
}
