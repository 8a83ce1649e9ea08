import { DEFAULT_CAPACITY, type ReplicaState } from '../report/index.ts';
import type { CircuitBreaker, CircuitState } from './circuit-breaker.ts';
import type { InFlightLedger } from './in-flight-ledger.ts';
import { type PickOptions, pickReplica } from './pick.ts';
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
  /**
   * How many more of this resolver's requests it has in flight than when its report was made
   * (sent since, less finished since): what the report could not count. Negative when more
   * finished than were sent.
   */
  readonly sinceReport: number;
  /** The state and score picking uses (see {@linkcode viewReplicas}). */
  readonly state: ReplicaState;
  readonly score: number;
  readonly stale: boolean;
  readonly circuit: CircuitState;
  /** Whether it takes part in picking at all (not fenced, not dropped as stale). */
  readonly eligible: boolean;
  /** Left out by `stalePolicy: 'drop'`: never picked, not even when every other is fenced. */
  readonly dropped: boolean;
  /** The entry picking sees: the report with the state and score above. */
  readonly entry: ReplicaEntry;
}

const SERVING: ReadonlySet<ReplicaState> = new Set(['READY', 'WARMING']);
const SATURATED_SCORE = 0.85;

/**
 * Each replica's report combined with what this resolver knows, without either overwriting the
 * other:
 *
 * - **score** = min(1, max(0, reported score + sinceReport ÷ capacity) + recent error ratio):
 *   the report counted the requests in flight when it was made (`min(report.at, receivedAt)`,
 *   so a host clock running ahead cannot hide requests); each of this resolver's requests sent
 *   since adds what one more running request adds on the host, 1/`capacity`
 *   (`saturation.max_concurrency`, carried in the report), and each finished since takes as
 *   much away. A new report replaces only the reported part. (Counting every open request sent
 *   since the report instead would count a replica's steady load twice whenever reports are
 *   sparser than requests are long.) The share of this resolver's requests to it that failed in
 *   the last 10 s is added too (as gRPC's weighted round robin penalises errors): a replica that
 *   fails fast looks idle in its reports and would draw ever more.
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
    const sinceReport = ledger.sinceReport(key, since);
    const capacity = report.capacity ?? DEFAULT_CAPACITY;
    const ageMs = now - receivedAt;
    const stale = ageMs > options.staleAfterMs;
    let state = report.state;
    const errorRatio = ledger.errorRatio(key, now);
    let score = Math.min(1, Math.max(0, report.score + sinceReport / capacity) + errorRatio);
    if (SERVING.has(state) && score >= SATURATED_SCORE && score > report.score) state = 'SATURATED';
    if (stale && options.stalePolicy === 'saturated' && SERVING.has(state)) {
      state = 'SATURATED';
      score = 1;
    }
    const breaker = breakerOf(key);
    const circuit = breaker?.state(now) ?? 'closed';
    const dropped = stale && options.stalePolicy === 'drop';
    const eligible = (breaker?.allows(now) ?? true) && !dropped;
    return {
      cluster: report.cluster,
      replica: report.replica,
      reported: { state: report.state, score: report.score, seq: report.seq },
      ageMs,
      inFlight: ledger.inFlight(key),
      errorRatio,
      sinceReport,
      state,
      score,
      stale,
      circuit,
      eligible,
      dropped,
      entry:
        state === report.state && score === report.score && sinceReport === 0
          ? entry
          : {
              receivedAt,
              report: {
                ...report,
                state,
                score,
                // This resolver's requests since the report, among the running it reported.
                running: Math.max(0, (report.running ?? 0) + sinceReport),
              },
            },
    };
  });
}

/**
 * The usual choice by state and score ({@linkcode pickReplica}) among the eligible views. When
 * every replica is fenced it picks among the fenced ones rather than nothing (as Envoy's panic
 * threshold does: an outage of the resolver's own making must not become total); dropped stale
 * replicas never.
 */
export function pickView(
  views: readonly ReplicaView[],
  options: PickOptions = {},
): ReplicaView | undefined {
  const eligible = views.filter((v) => v.eligible);
  const pool = eligible.length > 0 ? eligible : views.filter((v) => !v.dropped);
  const picked = pickReplica(
    pool.map((v) => v.entry),
    options,
  );
  return picked === undefined ? undefined : pool.find((v) => v.entry === picked);
}
