import type { CheckAnswer } from './check-answer.ts';

/** How long a refusal counts, ms. */
export const REFUSAL_WINDOW_MS = 60_000;
/** Keys reported at most (the most refused). */
export const MAX_REFUSED_KEYS = 16;
/** Distinct keys tracked at most (a client names any string it likes). */
const MAX_TRACKED = 1024;

/**
 * "Elsewhere" refusals of the request-path check by tenant and routing key over the last
 * minute, in ten 6-second buckets: what a saturation report tells resolvers, so they stop sending
 * a key to a host that keeps refusing it. Bounded in keys tracked and reported. Pure.
 */
export class RefusalWindow {
  private readonly buckets = new Map<
    string,
    { tenant: string; key: string; counts: number[]; at: number[] }
  >();

  /** Counts `answer` when it is an "elsewhere" refusal naming a tenant and routing key. */
  record(answer: CheckAnswer, now: number): void {
    if (answer.headers['filament-verdict'] !== 'elsewhere') return;
    if (answer.tenant === undefined || answer.routingKey === undefined) return;
    const id = `${answer.tenant}\u0000${answer.routingKey}`;
    let entry = this.buckets.get(id);
    if (entry === undefined) {
      if (this.buckets.size >= MAX_TRACKED) this.prune(now);
      if (this.buckets.size >= MAX_TRACKED) return;
      entry = { tenant: answer.tenant, key: answer.routingKey, counts: [], at: [] };
      this.buckets.set(id, entry);
    }
    const slot = Math.floor(now / (REFUSAL_WINDOW_MS / 10));
    if (entry.at.at(-1) === slot)
      entry.counts[entry.counts.length - 1] = (entry.counts.at(-1) ?? 0) + 1;
    else {
      entry.at.push(slot);
      entry.counts.push(1);
    }
  }

  /** The keys refused in the last minute, most refused first, at most {@linkcode MAX_REFUSED_KEYS}. */
  top(now: number): Array<{ tenant: string; routingKey: string; count: number }> {
    this.prune(now);
    return [...this.buckets.values()]
      .map((e) => ({
        tenant: e.tenant,
        routingKey: e.key,
        count: e.counts.reduce((a, b) => a + b, 0),
      }))
      .filter((e) => e.count > 0)
      .sort((a, b) => b.count - a.count || a.routingKey.localeCompare(b.routingKey))
      .slice(0, MAX_REFUSED_KEYS);
  }

  private prune(now: number): void {
    const oldest = Math.floor((now - REFUSAL_WINDOW_MS) / (REFUSAL_WINDOW_MS / 10));
    for (const [id, e] of this.buckets) {
      while (e.at.length > 0 && (e.at[0] as number) <= oldest) {
        e.at.shift();
        e.counts.shift();
      }
      if (e.at.length === 0) this.buckets.delete(id);
    }
  }
}
