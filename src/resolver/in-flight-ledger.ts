/** How long a request's outcome counts in a replica's recent error ratio, ms. */
export const OUTCOME_WINDOW_MS = 10_000;
/** Outcomes kept per replica at most (the newest). */
const MAX_OUTCOMES = 32;

/**
 * What this resolver has sent each replica and not yet seen finish: one entry per request, with
 * when it was sent (the resolver's clock); and how its recent requests ended. Kept apart from the
 * replicas' own reports — neither overwrites the other (a router and a worker writing one load
 * field, last writer wins, is how load shedding silently stopped in ai-dynamo/dynamo#7753). Pure.
 */
export class InFlightLedger {
  private readonly sent = new Map<string, Map<number, number>>();
  private readonly outcomes = new Map<string, Array<{ at: number; ok: boolean }>>();
  private nextId = 1;

  /** Records a request sent to `replica` at `now`; returns its id for {@linkcode finish}. */
  start(replica: string, now: number): number {
    const id = this.nextId++;
    let mine = this.sent.get(replica);
    if (mine === undefined) {
      mine = new Map();
      this.sent.set(replica, mine);
    }
    mine.set(id, now);
    return id;
  }

  /**
   * The request finished at `at`, well (`ok`) or not. Unknown ids are ignored: finishing is
   * idempotent.
   */
  finish(replica: string, id: number, ok = true, at?: number): void {
    const mine = this.sent.get(replica);
    if (mine === undefined || !mine.delete(id)) return;
    if (mine.size === 0) this.sent.delete(replica);
    if (at === undefined) return;
    let list = this.outcomes.get(replica);
    if (list === undefined) {
      list = [];
      this.outcomes.set(replica, list);
    }
    list.push({ at, ok });
    if (list.length > MAX_OUTCOMES) list.shift();
  }

  /**
   * The share of `replica`'s requests that ended in failure over the last
   * {@linkcode OUTCOME_WINDOW_MS} (0 with none): a replica that fails fast looks idle in its
   * reports, so this is what keeps it from drawing traffic.
   */
  errorRatio(replica: string, now: number): number {
    const list = this.outcomes.get(replica);
    if (list === undefined) return 0;
    while (list.length > 0 && now - (list[0] as { at: number }).at > OUTCOME_WINDOW_MS)
      list.shift();
    if (list.length === 0) {
      this.outcomes.delete(replica);
      return 0;
    }
    return list.filter((o) => !o.ok).length / list.length;
  }

  /** Requests to `replica` not finished yet. */
  inFlight(replica: string): number {
    return this.sent.get(replica)?.size ?? 0;
  }

  /**
   * Requests to `replica` sent at or after `since` and not finished: what a report made at
   * `since` cannot have counted yet.
   */
  unseen(replica: string, since: number): number {
    let n = 0;
    for (const at of this.sent.get(replica)?.values() ?? []) if (at >= since) n++;
    return n;
  }
}
