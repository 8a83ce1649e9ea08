/**
 * What this resolver has sent each replica and not yet seen finish: one entry per request, with
 * when it was sent (the resolver's clock). Kept apart from the replicas' own reports — neither
 * overwrites the other (a router and a worker writing one load field, last writer wins, is how
 * load shedding silently stopped in ai-dynamo/dynamo#7753). Pure.
 */
export class InFlightLedger {
  private readonly sent = new Map<string, Map<number, number>>();
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

  /** The request finished (however it ended). Unknown ids are ignored: finishing is idempotent. */
  finish(replica: string, id: number): void {
    const mine = this.sent.get(replica);
    if (mine === undefined) return;
    mine.delete(id);
    if (mine.size === 0) this.sent.delete(replica);
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
