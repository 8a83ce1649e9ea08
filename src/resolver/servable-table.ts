import type { ServableSet } from '../report/index.ts';
import type { ReplicaEntry } from './replica-table.ts';

/** What a resolver wants served: a tenant's routing key, or one of its models. */
export type ServeWant =
  | { readonly tenant: string; readonly routingKey: string }
  | { readonly tenant: string; readonly model: string };

/** Whether a replica can serve a {@linkcode ServeWant}, as far as this resolver knows. */
export type ServeAnswer =
  /** Its current servable set lists it. */
  | 'yes'
  /** Its current servable set does not list it (the host would refuse the request). */
  | 'no'
  /** Its report names a newer servable set than this resolver holds: not to be trusted. */
  | 'out-of-date'
  /** It publishes no servable set (a filament from before they existed): judged by state only. */
  | 'unannounced';

/**
 * The servable set of each host, as published on `{prefix}/inventory/{cluster}/{replica}`, and
 * the answer to "can this replica serve that?" — checked against the seq and digest its latest
 * report carries, so an old copy is never taken for the truth.
 */
export class ServableTable {
  private readonly sets = new Map<string, ServableSet>();
  private readonly index = new Map<string, { keys: Set<string>; models: Set<string> }>();

  /** Records a host's set; returns false when it is older than the one held. */
  update(set: ServableSet): boolean {
    const key = `${set.cluster}/${set.replica}`;
    const held = this.sets.get(key);
    if (held && set.seq < held.seq && set.at <= held.at) return false;
    this.sets.set(key, set);
    for (const t of set.tenants)
      this.index.set(`${key}/${t.tenant}`, { keys: new Set(t.keys), models: new Set(t.models) });
    for (const k of [...this.index.keys()])
      if (k.startsWith(`${key}/`) && !set.tenants.some((t) => k === `${key}/${t.tenant}`))
        this.index.delete(k);
    return true;
  }

  /** Forgets a host's set (its retained message was cleared). */
  remove(cluster: string, replica: string): void {
    const key = `${cluster}/${replica}`;
    this.sets.delete(key);
    for (const k of [...this.index.keys()]) if (k.startsWith(`${key}/`)) this.index.delete(k);
  }

  /** The set held for a host, if any. */
  get(cluster: string, replica: string): ServableSet | undefined {
    return this.sets.get(`${cluster}/${replica}`);
  }

  /** Whether `entry`'s replica can serve `want`. */
  answer(entry: ReplicaEntry, want: ServeWant): ServeAnswer {
    const announced = entry.report.inventory;
    if (announced === undefined) return 'unannounced';
    const key = `${entry.report.cluster}/${entry.report.replica}`;
    const set = this.sets.get(key);
    // A set newer than the report in hand (it is published just before the report that names
    // it) is the truth already; one older than what the report names is not.
    if (set === undefined || (set.digest !== announced.digest && set.at < entry.report.at))
      return 'out-of-date';
    const tenant = this.index.get(`${key}/${want.tenant}`);
    if (tenant === undefined) return 'no';
    return ('routingKey' in want ? tenant.keys.has(want.routingKey) : tenant.models.has(want.model))
      ? 'yes'
      : 'no';
  }
}
