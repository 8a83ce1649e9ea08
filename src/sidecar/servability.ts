import {
  describeServability,
  type ModelInventory,
  reconcile,
  type Servability,
} from '../inventory/index.ts';
import { type AckServing, MAX_ACK_UNSERVABLE } from '../rule-stream/index.ts';
import type { RuleStore } from '../rules/index.ts';

/** What this host can serve of each tenant's active version, against what is loaded now. */
export class ServabilityView {
  constructor(
    private readonly store: RuleStore,
    private readonly inventory: ModelInventory,
    private readonly cluster: string,
  ) {}

  private readonly cache = new Map<
    string,
    { rules: object; generation: number; result: Servability }
  >();

  /**
   * A tenant's servability now, or `undefined` without rules. Kept until the tenant's active
   * set or the inventory changes, so scrapes and status calls cost a map lookup.
   */
  of(tenant: string): Servability | undefined {
    const active = this.store.get(tenant)?.history[0];
    if (active === undefined) return undefined;
    const generation = this.inventory.generation;
    const cached = this.cache.get(tenant);
    if (cached && cached.rules === active && cached.generation === generation) return cached.result;
    const result = reconcile(tenant, active, this.cluster, this.inventory);
    this.cache.set(tenant, { rules: active, generation, result });
    return result;
  }

  /**
   * True when the rules of `tenants` route some routing key to this host's cluster and it can
   * serve none of them now: such a host must not look ready to anyone who balances load.
   */
  servesNothing(tenants: readonly string[]): boolean {
    let routed = 0;
    for (const tenant of tenants) {
      const s = this.of(tenant);
      if (s === undefined) continue;
      if (s.servableKeys.length > 0) return false;
      routed += s.unservableKeys.length;
    }
    return routed > 0;
  }

  /** The ACK's `serving` field for a tenant. */
  forAck(tenant: string): AckServing | undefined {
    const s = this.of(tenant);
    if (s === undefined) return undefined;
    return {
      objectives: s.objectives,
      unservableObjectives: s.unservableObjectives.length,
      unservable: s.unservableKeys.slice(0, MAX_ACK_UNSERVABLE),
      summary: describeServability(s),
    };
  }
}
