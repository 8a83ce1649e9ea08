import type { CompiledRuleSet } from './compile-rule-set.ts';

/** One tenant's rules at one instant: the active set and the last few versions, newest first. */
export interface TenantRules {
  readonly tenant: string;
  readonly active: CompiledRuleSet;
  /** Newest first; `history[0] === active`. At most `historySize` entries. */
  readonly history: readonly CompiledRuleSet[];
}

/** Called after a tenant's rules changed, with the new snapshot. */
export type RulesListener = (rules: TenantRules) => void;

/**
 * The applied rule sets of every tenant. Each tenant's rules are one frozen snapshot replaced by
 * a single assignment, so a reader that takes {@linkcode RuleStore.get} once sees exactly one
 * version, never half of two. Keeps the last `historySize` versions per tenant so requests
 * resolved against a neighbouring version can be judged against the version they used.
 */
export class RuleStore {
  private readonly tenants = new Map<string, TenantRules>();
  private readonly floors = new Map<string, number>();
  private readonly listeners = new Set<RulesListener>();

  /** @param historySize how many versions to keep per tenant, including the active one (≥ 1). */
  constructor(readonly historySize = 4) {
    if (!Number.isInteger(historySize) || historySize < 1)
      throw new RangeError(`historySize must be an integer ≥ 1, got ${historySize}`);
  }

  /** The current snapshot for `tenant`, or `undefined` when none has been applied. */
  get(tenant: string): TenantRules | undefined {
    return this.tenants.get(tenant);
  }

  /** The active rule set for `tenant`. */
  active(tenant: string): CompiledRuleSet | undefined {
    return this.tenants.get(tenant)?.active;
  }

  /** A kept version of `tenant`'s rules, active or historical. */
  version(tenant: string, version: number): CompiledRuleSet | undefined {
    return this.tenants.get(tenant)?.history.find((r) => r.version === version);
  }

  /**
   * The highest version ever applied for `tenant` (0 when none): the active version, or a higher
   * one remembered on disk whose rules could not be restored. Versions below it are refused.
   */
  highWater(tenant: string): number {
    return Math.max(this.tenants.get(tenant)?.active.version ?? 0, this.floors.get(tenant) ?? 0);
  }

  /** Records that `version` was applied for `tenant` before, so nothing older is accepted again. */
  raiseHighWater(tenant: string, version: number): void {
    if (version > (this.floors.get(tenant) ?? 0)) this.floors.set(tenant, version);
  }

  /** Tenants that have an applied rule set. */
  tenantNames(): string[] {
    return [...this.tenants.keys()];
  }

  /** Every compiled rule set kept, across tenants (for pruning shared caches). */
  *kept(): IterableIterator<CompiledRuleSet> {
    for (const rules of this.tenants.values()) yield* rules.history;
  }

  /**
   * Makes `rules` the active set of its tenant.
   * @throws {RangeError} if its version is not above the active one: callers decide versions first.
   */
  install(rules: CompiledRuleSet): TenantRules {
    const previous = this.tenants.get(rules.tenant);
    if (previous && rules.version <= previous.active.version) {
      throw new RangeError(
        `version ${rules.version} of "${rules.tenant}" is not above the active ${previous.active.version}`,
      );
    }
    const history = [rules, ...(previous?.history ?? [])].slice(0, this.historySize);
    const snapshot: TenantRules = Object.freeze({
      tenant: rules.tenant,
      active: rules,
      history: Object.freeze(history),
    });
    this.tenants.set(rules.tenant, snapshot);
    for (const listener of this.listeners) listener(snapshot);
    return snapshot;
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(listener: RulesListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
