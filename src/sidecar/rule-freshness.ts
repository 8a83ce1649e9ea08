import type { RuleStore } from '../rules/index.ts';

/** Applied rule versions per tenant, and whether this host's rules are stale. */
export interface RuleFreshness {
  readonly versions: Record<string, number>;
  readonly stale: boolean;
}

/**
 * Whether this host's rules are stale: a followed tenant has none, or has an older version than
 * the high-water mark remembered on disk (it was restored from a previous copy and has not caught
 * up yet), or its active set has passed its `expiresAt`, or — when `maxAgeMs` > 0 — was issued
 * longer ago than that. A version the stream offers but every host refuses does not count:
 * marking all hosts stale would steer traffic away from all of them.
 */
export function ruleFreshness(
  tenants: readonly string[],
  store: RuleStore,
  now: number,
  maxAgeMs = 0,
): RuleFreshness {
  const versions: Record<string, number> = {};
  let stale = false;
  for (const tenant of tenants) {
    const active = store.active(tenant);
    if (active === undefined) {
      stale = true;
      continue;
    }
    versions[tenant] = active.version;
    if (store.highWater(tenant) > active.version) stale = true;
    if (maxAgeMs > 0 && now - Date.parse(active.ruleSet.issuedAt) > maxAgeMs) stale = true;
    // Expired while active (no newer set arrived: a withheld update, or a stalled publisher).
    const expiresAt = active.ruleSet.expiresAt;
    if (expiresAt !== undefined && now >= Date.parse(expiresAt)) stale = true;
  }
  return { versions, stale };
}
