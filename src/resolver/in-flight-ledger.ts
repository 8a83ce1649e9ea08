/** How long a request's outcome counts in a replica's recent error ratio, ms. */
export const OUTCOME_WINDOW_MS = 10_000;
/** How far back starts and finishes are remembered (a report older than this is stale anyway), ms. */
export const HISTORY_MS = 30_000;
/** Outcomes kept per replica at most (the newest). */
const MAX_OUTCOMES = 32;

interface Replica {
  /** Requests in flight: id → when sent. */
  readonly open: Map<number, number>;
  /** When recent requests were sent and finished, oldest first. */
  readonly starts: number[];
  readonly ends: number[];
  readonly outcomes: Array<{ at: number; ok: boolean }>;
}

/**
 * What this resolver has sent each replica and not yet seen finish, when it sent and finished
 * its recent requests, and how they ended — kept apart from the replicas' own reports, so
 * neither overwrites the other (a router and a worker writing one load field, last writer wins,
 * is how load shedding silently stopped in ai-dynamo/dynamo#7753). Pure: the caller passes the
 * time.
 */
export class InFlightLedger {
  private readonly replicas = new Map<string, Replica>();
  private nextId = 1;

  /** Records a request sent to `replica` at `now`; returns its id for {@linkcode finish}. */
  start(replica: string, now: number): number {
    const id = this.nextId++;
    const r = this.of(replica);
    r.open.set(id, now);
    r.starts.push(now);
    this.prune(r, now);
    return id;
  }

  /**
   * The request finished at `at` (times passed in order), well (`ok`) or not. Unknown ids are
   * ignored: finishing is idempotent.
   */
  finish(replica: string, id: number, ok: boolean, at: number): void {
    const r = this.replicas.get(replica);
    if (r === undefined || !r.open.delete(id)) return;
    r.ends.push(at);
    r.outcomes.push({ at, ok });
    if (r.outcomes.length > MAX_OUTCOMES) r.outcomes.shift();
    this.prune(r, at);
  }

  /** Requests to `replica` not finished yet. */
  inFlight(replica: string): number {
    return this.replicas.get(replica)?.open.size ?? 0;
  }

  /**
   * How many more of this resolver's requests `replica` has in flight now than it had at
   * `since` (when a report was made): sent since, less finished since. A report counted the
   * requests in flight when it was made; this is what it could not count. Negative when more have
   * finished than were sent.
   */
  sinceReport(replica: string, since: number): number {
    const r = this.replicas.get(replica);
    if (r === undefined) return 0;
    return countFrom(r.starts, since) - countFrom(r.ends, since);
  }

  /**
   * The share of `replica`'s requests that ended in failure over the last
   * {@linkcode OUTCOME_WINDOW_MS} (0 with none): a replica that fails fast looks idle in its
   * reports, so this is what keeps it from drawing traffic.
   */
  errorRatio(replica: string, now: number): number {
    const list = this.replicas.get(replica)?.outcomes;
    if (list === undefined) return 0;
    let failed = 0;
    let recent = 0;
    for (const o of list)
      if (now - o.at <= OUTCOME_WINDOW_MS) {
        recent++;
        if (!o.ok) failed++;
      }
    return recent === 0 ? 0 : failed / recent;
  }

  private of(replica: string): Replica {
    let r = this.replicas.get(replica);
    if (r === undefined) {
      r = { open: new Map(), starts: [], ends: [], outcomes: [] };
      this.replicas.set(replica, r);
    }
    return r;
  }

  private prune(r: Replica, now: number): void {
    for (const list of [r.starts, r.ends])
      while (list.length > 0 && now - (list[0] as number) > HISTORY_MS) list.shift();
  }
}

/** How many of the ascending `times` are at or after `since`. */
function countFrom(times: readonly number[], since: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((times[mid] as number) < since) lo = mid + 1;
    else hi = mid;
  }
  return times.length - lo;
}
