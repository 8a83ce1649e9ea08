import { describe, expect, test } from 'bun:test';
import {
  applyRuleDelta,
  buildRuleDelta,
  DELTA_CONTENT_TYPE,
  RuleApplier,
  type RuleDelta,
  type RuleSet,
  RuleStore,
  ruleSetDigest,
} from '../../src/rules/index.ts';
import { generateSigningKey, parsePublicKey, TrustRoot } from '../../src/trust/index.ts';
import { jsonBytes, largeRuleSet, splitRuleSet } from '../helpers/rule-sets.ts';

const NOW = Date.parse('2026-11-23T12:00:00Z');

function setup(trust?: TrustRoot) {
  const store = new RuleStore(3);
  const applier = new RuleApplier(store, {
    limits: { maxBytes: 8 << 20, maxDepth: 32 },
    now: () => NOW,
    ...(trust ? { trust } : {}),
  });
  const apply = (doc: unknown, contentType?: string) =>
    applier.apply({
      tenant: 'acme',
      bytes: jsonBytes(doc),
      ...(contentType ? { contentType } : {}),
    });
  return { store, apply };
}

const split = (v: number, a = 50) => splitRuleSet('acme', v, a);

describe('RuleApplier with deltas', () => {
  test('a delta on the right base is applied, as the full set of that version would be', () => {
    const { store, apply } = setup();
    expect(apply(split(1, 50)).status).toBe('applied');
    const delta = buildRuleDelta(split(1, 50), split(2, 90));
    expect(delta.patch).toEqual([
      { op: 'replace', path: '/version', value: 2 },
      { op: 'replace', path: '/objectives/0/cells/0/percent', value: 90 },
      { op: 'replace', path: '/objectives/0/cells/1/percent', value: 10 },
    ]);
    // Recognised by its content type, or without one by its kind.
    const outcome = apply(delta);
    expect(outcome).toMatchObject({ status: 'applied', version: 2, previousVersion: 1 });
    expect(store.active('acme')?.ruleSet).toEqual(split(2, 90));
    // The full set of the same version agrees with it: unchanged.
    expect(apply(split(2, 90)).status).toBe('unchanged');
    // And the same delta again is unchanged too (its digest matches).
    expect(apply(delta, DELTA_CONTENT_TYPE).status).toBe('unchanged');
  });

  test('a full set that merely mentions the delta kind is not taken for a delta', () => {
    const { apply } = setup();
    const set = {
      ...split(1, 50),
      description: 'not a filament.rules.delta/v1, "kind" or no kind',
    };
    expect(apply(set).status).toBe('applied');
  });

  test('a host not on the base never guesses: it needs the full set, and nothing changes', () => {
    const { store, apply } = setup();
    const delta = buildRuleDelta(split(1, 50), split(2, 90));
    expect(apply(delta)).toEqual({
      status: 'needs-full',
      version: 2,
      base: 1,
      activeVersion: null,
      reason: 'the delta applies to version 1; this host has none',
    });
    apply(split(3, 40));
    expect(apply(buildRuleDelta(split(4, 50), split(5, 90)))).toMatchObject({
      status: 'needs-full',
      activeVersion: 3,
      reason: 'the delta applies to version 4; this host has version 3',
    });
    expect(store.active('acme')?.version).toBe(3);
    // An old delta is a regression like an old full set.
    expect(apply(buildRuleDelta(split(1, 50), split(2, 90)))).toMatchObject({
      status: 'rejected',
      rejection: { code: 'VERSION_REGRESSION' },
    });
  });

  test('a result whose digest differs is refused, and nothing changes', () => {
    const { store, apply } = setup();
    apply(split(1, 50));
    const wrong: RuleDelta = {
      ...buildRuleDelta(split(1, 50), split(2, 90)),
      digest: ruleSetDigest(split(2, 80)),
    };
    expect(apply(wrong)).toMatchObject({
      status: 'rejected',
      version: 2,
      activeVersion: 1,
      rejection: { code: 'DIGEST_MISMATCH', path: '/digest' },
    });
    expect(store.active('acme')?.version).toBe(1);
  });

  test('the result goes through the same checks as a full set', () => {
    const { store, apply } = setup();
    apply(split(1, 50));
    const dangling = {
      ...split(2, 50),
      objectives: [{ ...(split(2, 50).objectives[0] as object), defaultModel: 'nope' }],
    } as unknown as RuleSet;
    expect(apply(buildRuleDelta(split(1, 50), dangling))).toMatchObject({
      status: 'rejected',
      rejection: { code: 'DANGLING_REFERENCE' },
    });
    const unknownField = { ...split(2, 50), owner: 'bob' } as unknown as RuleSet;
    expect(apply(buildRuleDelta(split(1, 50), unknownField))).toMatchObject({
      status: 'rejected',
      rejection: { code: 'SCHEMA', path: '/owner' },
    });
    const versionless = { ...buildRuleDelta(split(1, 50), split(2, 90)) };
    versionless.patch = versionless.patch.filter((op) => op.path !== '/version');
    expect(apply(versionless)).toMatchObject({
      status: 'rejected',
      rejection: {
        code: 'BAD_PATCH',
        message: 'the patched set is version 1 of "acme", not version 2 of "acme"',
      },
    });
    expect(store.active('acme')?.version).toBe(1);
  });

  test('signatures required: a delta is never applied, the signed full set is taken instead', () => {
    const key = generateSigningKey();
    const { apply } = setup(new TrustRoot([parsePublicKey(key.publicPem)], 1));
    expect(apply(buildRuleDelta(split(1, 50), split(2, 90)))).toMatchObject({
      status: 'needs-full',
      reason: 'signatures are required and deltas are not signed: taking the full set',
    });
  });

  test('diff and apply round-trip on a large set', () => {
    const from = largeRuleSet('acme', 1, 500);
    const to = structuredClone(from) as { -readonly [K in keyof RuleSet]: RuleSet[K] };
    to.version = 2;
    (to.objectives as unknown[]).splice(100, 1);
    (to.models as unknown[]).push({
      ...(to.models[0] as object),
      id: 'extra',
      routingKey: 'acme.extra',
    });
    const result = applyRuleDelta(from, buildRuleDelta(from, to as RuleSet));
    expect(result.ok && result.value).toEqual(to as RuleSet);
  });
});
