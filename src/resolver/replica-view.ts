import { DEFAULT_CAPACITY, type ReplicaState } from '../report/index.ts';
import type { CircuitBreaker, CircuitState } from './circuit-breaker.ts';
import type { InFlightLedger } from './in-flight-ledger.ts';
import type { ReplicaEntry } from './replica-table.ts';

/**
 * What a resolver makes of a replica whose latest report is older than its staleness limit:
 * `saturated` (default) counts it as SATURATED (picked only if every other is excluded too),
 * `ignore` takes the report as it is, `drop` leaves the replica out altogether.
 */
export type StalePolicy = 'saturated' | 'ignore' | 'drop';

/** How {@linkcode viewReplicas} judges age. */
export interface ViewOptions {
  /** A report older than this (by the resolver's clock) is stale, ms. */
  readonly staleAfterMs: number;
  readonly stalePolicy: StalePolicy;
}

/** One replica as this resolver weighs it: its report, and what the resolver knows besides. */
export interface ReplicaView {
  readonly cluster: string;
  readonly replica: string;
  /** What the replica last reported, and when (its seq, and the report's age here). */
  readonly reported: { readonly state: ReplicaState; readonly score: number; readonly seq: number };
  readonly ageMs: number;
  /** Requests this resolver sent it that have not finished. */
  readonly inFlight: number;
  /** The share of this resolver's requests to it that failed in the last 10 s. */
  readonly errorRatio: number;
  /** Of those, the ones sent since its report was made (the report cannot have counted them). */
  readonly unseen: number;
  /** The state and score picking uses (see {@linkcode viewReplicas}). */
  readonly state: ReplicaState;
  readonly score: number;
  readonly stale: boolean;
  readonly circuit: CircuitState;
  /** Whether it takes part in picking at all (not fenced, not dropped as stale). */
  readonly eligible: boolean;
  /** The entry picking sees: the report with the state and score above. */
  readonly entry: ReplicaEntry;
}

const SERVING: ReadonlySet<ReplicaState> = new Set(['READY', 'WARMING']);

/**
 * Each replica's report combined with what this resolver knows, without either overwriting the
 * other:
 *
 * - **score** = min(1, reported score + unseen ÷ capacity + recent error ratio): each request
 *   sent since the report was made (`min(report.at, receivedAt)`, so a host clock running ahead
 *   cannot hide requests) and not finished adds what one more running request adds on the host,
 *   1/`capacity` (`saturation.max_concurrency`, carried in the report). Requests sent before the
 *   report are in its numbers already and are not counted twice. A new report replaces only the
 *   reported part: requests sent after it still count. The share of this resolver's requests to
 *   it that failed in the last 10 s is added too (as gRPC's weighted round robin penalises
 *   errors): a replica that fails fast looks idle in its reports and would draw ever more.
 * - **stale** (older than `staleAfterMs`): by `stalePolicy`.
 * - **circuit** open, or half-open with its probe out: not eligible, whatever the report says.
 *
 * Pure: the ledger and breakers are read, not changed.
 */
export function viewReplicas(
  entries: readonly ReplicaEntry[],
  ledger: InFlightLedger,
  breakerOf: (key: string) => CircuitBreaker | undefined,
  now: number,
  options: ViewOptions,
): ReplicaView[] {
  return entries.map((entry) => {
    const { report, receivedAt } = entry;
    const key = `${report.cluster}/${report.replica}`;
    const since = Math.min(report.at, receivedAt);
    const unseen = ledger.unseen(key, since);
    const capacity = report.capacity ?? DEFAULT_CAPACITY;
    const ageMs = now - receivedAt;
    const stale = ageMs > options.staleAfterMs;
    let state = report.state;
    const errorRatio = ledger.errorRatio(key, now);
    let score = Math.min(1, report.score + unseen / capacity + errorRatio);
    if (stale && options.stalePolicy === 'saturated' && SERVING.has(state)) {
      state = 'SATURATED';
      score = 1;
    }
    const breaker = breakerOf(key);
    const circuit = breaker?.state(now) ?? 'closed';
    const eligible = (breaker?.allows(now) ?? true) && !(stale && options.stalePolicy === 'drop');
    return {
      cluster: report.cluster,
      replica: report.replica,
      reported: { state: report.state, score: report.score, seq: report.seq },
      ageMs,
      inFlight: ledger.inFlight(key),
      errorRatio,
      unseen,
      state,
      score,
      stale,
      circuit,
      eligible,
      entry:
        state === report.state && score === report.score
          ? entry
          : { receivedAt, report: { ...report, state, score } },
    };
  });
}
