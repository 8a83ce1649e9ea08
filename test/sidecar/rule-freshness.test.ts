import { describe, expect, test } from 'bun:test';
import { RuleApplier, RuleStore } from '../../src/rules/index.ts';
import { ruleFreshness } from '../../src/sidecar/rule-freshness.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';

const ISSUED = Date.parse('2026-11-01T00:00:00Z');

function storeWith(...versions: number[]) {
  return storeOf(versions.map((v) => ruleSet('acme', v)));
}

function storeOf(sets: ReturnType<typeof ruleSet>[]) {
  const store = new RuleStore(2);
  const applier = new RuleApplier(store, {
    limits: { maxBytes: 1 << 20, maxDepth: 32 },
    now: () => ISSUED,
  });
  for (const set of sets) applier.apply({ tenant: 'acme', bytes: jsonBytes(set) });
  return store;
}

describe('ruleFreshness', () => {
  test('fresh when every tenant has rules at its high-water version', () => {
    expect(ruleFreshness(['acme'], storeWith(3), ISSUED)).toEqual({
      versions: { acme: 3 },
      stale: false,
    });
  });

  test('stale when a tenant has no rules yet', () => {
    expect(ruleFreshness(['acme', 'globex'], storeWith(3), ISSUED)).toEqual({
      versions: { acme: 3 },
      stale: true,
    });
  });

  test('stale when a newer version was applied before than the one restored', () => {
    const store = storeWith(3);
    store.raiseHighWater('acme', 5);
    expect(ruleFreshness(['acme'], store, ISSUED).stale).toBe(true);
  });

  test('stale when the active set is older than the age limit, if one is set', () => {
    const store = storeWith(3);
    const dayLater = ISSUED + 24 * 3600_000;
    expect(ruleFreshness(['acme'], store, dayLater).stale).toBe(false);
    expect(ruleFreshness(['acme'], store, dayLater, 3600_000).stale).toBe(true);
  });

  test('stale once the active set has expired (an update withheld: a freeze)', () => {
    const store = storeOf([ruleSet('acme', 3, { expiresAt: '2026-11-02T00:00:00Z' })]);
    expect(ruleFreshness(['acme'], store, ISSUED).stale).toBe(false);
    expect(ruleFreshness(['acme'], store, Date.parse('2026-11-02T00:00:00Z')).stale).toBe(true);
  });
});
