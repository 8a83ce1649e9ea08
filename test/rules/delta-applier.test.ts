import { describe, expect, test } from 'bun:test';
import { checkObjectiveChanges } from '../../src/rules/check-changes.ts';
import {
  applyRuleDelta,
  buildRuleDelta,
  type CompiledRuleSet,
  DELTA_CONTENT_TYPE,
  type ObjectiveRule,
  RuleApplier,
  type RuleDelta,
  type RuleSet,
  RuleStore,
  ruleSetDigest,
} from '../../src/rules/index.ts';
import {
  ENVELOPE_CONTENT_TYPE,
  generateSigningKey,
  keyIdOf,
  parsePrivateKey,
  parsePublicKey,
  signRuleDelta,
  signRuleSet,
  TrustRoot,
} from '../../src/trust/index.ts';
import {
  jsonBytes,
  largeRuleSet,
  oneObjectiveChanged,
  splitRuleSet,
} from '../helpers/rule-sets.ts';

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
  return { store, apply, applier };
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

  test('a copy made ahead for the next delta is written into once; the base stays as it was', async () => {
    const { store, apply, applier } = setup();
    const base = largeRuleSet('acme', 1, 300);
    apply(base);
    await applier.prepareForDelta('acme');
    const active = store.active('acme')?.ruleSet as RuleSet;
    const before = structuredClone(active);
    // A refused delta takes the copy and throws it away with its result: the base is untouched.
    const next = oneObjectiveChanged(base, 2);
    const wrong = { ...buildRuleDelta(base, next), digest: ruleSetDigest(split(9, 90)) };
    expect(apply(wrong)).toMatchObject({ rejection: { code: 'DIGEST_MISMATCH' } });
    expect(store.active('acme')?.ruleSet).toEqual(before);
    // The next delta copies for itself; then three in a row, each on a copy made after the last.
    let prev = base;
    for (let v = 2; v <= 4; v++) {
      const made = oneObjectiveChanged(prev, v);
      expect(apply(buildRuleDelta(prev, made))).toMatchObject({ status: 'applied', version: v });
      const result = store.active('acme')?.ruleSet as RuleSet;
      expect(result).toEqual(made);
      expect(result.objectives).not.toBe(store.get('acme')?.history[1]?.ruleSet.objectives);
      await applier.prepareForDelta('acme');
      prev = made;
    }
    expect(store.get('acme')?.history.map((h) => h.ruleSet)).toEqual([
      prev,
      oneObjectiveChanged(oneObjectiveChanged(base, 2), 3),
      oneObjectiveChanged(base, 2),
    ]);
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

  test('signatures required: a signed delta applies; unsigned, tampered or untrusted ones are refused', () => {
    const key = generateSigningKey();
    const stranger = generateSigningKey();
    const { store, apply } = setup(new TrustRoot([parsePublicKey(key.publicPem)], 1));
    const expiring = (v: number, a: number) => ({
      ...split(v, a),
      expiresAt: '2026-12-31T00:00:00Z',
    });
    const signed = (doc: unknown, k = key, delta = true) => {
      const bytes = jsonBytes(doc);
      const keys = [parsePrivateKey(k.privatePem)];
      return delta ? signRuleDelta(bytes, keys) : signRuleSet(bytes, 'json', keys);
    };
    expect(apply(signed(expiring(1, 50), key, false), ENVELOPE_CONTENT_TYPE).status).toBe(
      'applied',
    );
    const delta = buildRuleDelta(expiring(1, 50), expiring(2, 90));
    // Unsigned: refused, whatever it says.
    expect(apply(delta, DELTA_CONTENT_TYPE)).toMatchObject({
      status: 'rejected',
      rejection: {
        code: 'UNSIGNED',
        message: expect.stringContaining('rule deltas must be signed'),
      },
    });
    // Signed by a key this host does not trust.
    expect(apply(signed(delta, stranger), ENVELOPE_CONTENT_TYPE)).toMatchObject({
      status: 'rejected',
      rejection: { code: 'SIGNATURE' },
    });
    // Tampered: the payload changed under the signature (another digest, another version).
    for (const change of [{ digest: `sha256:${'1'.repeat(64)}` }, { version: 3 }, { base: 0 }]) {
      const envelope = signed(delta);
      const tampered = {
        ...envelope,
        payload: Buffer.from(JSON.stringify({ ...delta, ...change })).toString('base64'),
      };
      expect(apply(tampered, ENVELOPE_CONTENT_TYPE)).toMatchObject({
        status: 'rejected',
        rejection: { code: 'SIGNATURE' },
      });
    }
    // A delta envelope cannot pass for a rule set, nor a rule-set envelope for a delta: the
    // payload type is signed.
    const asSet = { ...signed(delta), payloadType: 'application/vnd.filament.rule-set.v1+json' };
    expect(apply(asSet, ENVELOPE_CONTENT_TYPE)).toMatchObject({ status: 'rejected' });
    expect(store.active('acme')?.version).toBe(1);
    // Signed properly: applied, and says who signed it.
    const outcome = apply(signed(delta), ENVELOPE_CONTENT_TYPE);
    expect(outcome).toMatchObject({ status: 'applied', version: 2 });
    expect(store.active('acme')?.signedBy).toEqual([keyIdOf(parsePublicKey(key.publicPem))]);
    expect(store.active('acme')?.ruleSet).toEqual(expiring(2, 90));
    // A signed delta whose result lacks expiresAt is refused as a signed full set would be.
    const noExpiry = buildRuleDelta(expiring(2, 90), split(3, 80));
    expect(apply(signed(noExpiry), ENVELOPE_CONTENT_TYPE)).toMatchObject({
      status: 'rejected',
      rejection: { code: 'NO_EXPIRY' },
    });
  });

  test('a restored set made by a signed delta is re-verified through that delta', () => {
    const key = generateSigningKey();
    const trust = new TrustRoot([parsePublicKey(key.publicPem)], 1);
    const keys = [parsePrivateKey(key.privatePem)];
    const v1 = { ...split(1, 50), expiresAt: '2026-12-31T00:00:00Z' };
    const v2 = { ...split(2, 90), expiresAt: '2026-12-31T00:00:00Z' };
    const attestation = jsonBytes(signRuleDelta(jsonBytes(buildRuleDelta(v1, v2)), keys));
    const restore = (set: unknown, by = attestation) =>
      setup(trust).applier.apply({ tenant: 'acme', bytes: jsonBytes(set), attestation: by });
    const restored = restore(v2);
    expect(restored).toMatchObject({ status: 'applied', version: 2 });
    expect(restored.status === 'applied' && restored.rules.madeBy?.base).toBe(1);
    // The set on disk was changed: its digest is not the one the signed delta names.
    expect(restore(split(2, 70))).toMatchObject({
      status: 'rejected',
      rejection: { code: 'DIGEST_MISMATCH' },
    });
    // What vouches must itself verify.
    const forged = jsonBytes({
      ...JSON.parse(new TextDecoder().decode(attestation)),
      signatures: [{ keyid: keyIdOf(parsePublicKey(key.publicPem)), sig: 'A'.repeat(88) }],
    });
    expect(restore(v2, forged)).toMatchObject({
      status: 'rejected',
      rejection: { code: 'SIGNATURE' },
    });
    // And a bare set with nothing vouching for it is unsigned.
    expect(setup(trust).apply(v2)).toMatchObject({
      status: 'rejected',
      rejection: { code: 'UNSIGNED' },
    });
  });

  test('objective-only changes are checked on what changed, and refused as a full set would be', () => {
    const base = largeRuleSet('acme', 1, 300);
    const cases: Array<[string, (next: { objectives: unknown[] }) => void, string, string]> = [
      [
        'a duplicate id',
        (n) => n.objectives.splice(40, 1, { ...(n.objectives[40] as object), id: 'objective-7' }),
        'DUPLICATE_ID',
        '/objectives/40/id',
      ],
      [
        'an added duplicate',
        (n) => n.objectives.push({ ...(n.objectives[3] as object) }),
        'DUPLICATE_ID',
        '/objectives/300/id',
      ],
      [
        'a model that does not exist',
        (n) =>
          n.objectives.splice(250, 1, { ...(n.objectives[250] as object), defaultModel: 'gone' }),
        'DANGLING_REFERENCE',
        '/objectives/250/defaultModel',
      ],
      [
        'cells that do not add up',
        (n) =>
          n.objectives.splice(9, 1, {
            ...(n.objectives[9] as object),
            cells: [{ id: 'A', model: 'model-1', percent: 70 }],
          }),
        'BAD_ALLOCATION',
        '/objectives/9/cells',
      ],
      [
        'a field the schema does not know',
        (n) => n.objectives.splice(123, 1, { ...(n.objectives[123] as object), weight: 3 }),
        'SCHEMA',
        '/objectives/123/weight',
      ],
      ['no objective left', (n) => n.objectives.splice(0), 'SCHEMA', '/objectives'],
      [
        'a top-level field the schema does not know',
        (n) => Object.assign(n, { owner: 'team-a' }),
        'SCHEMA',
        '/owner',
      ],
      [
        'an issuedAt that is not a time',
        (n) => Object.assign(n, { issuedAt: 'yesterday' }),
        'SCHEMA',
        '/issuedAt',
      ],
    ];
    for (const [what, change, code, path] of cases) {
      const { store, apply } = setup();
      apply(base);
      const next = { ...structuredClone(base), version: 2 } as unknown as { objectives: unknown[] };
      change(next);
      const outcome = apply(buildRuleDelta(base, next as unknown as RuleSet));
      expect({ what, outcome }).toMatchObject({
        what,
        outcome: { status: 'rejected', rejection: { code, path } },
      });
      expect(store.active('acme')?.version).toBe(1);
    }
  });

  test('the number of objectives is held to the schema without looking at each one', () => {
    const { store, apply } = setup();
    apply(largeRuleSet('acme', 1, 3));
    const base = store.active('acme') as CompiledRuleSet;
    // A million and one objectives, as a delta adding one to a set at the limit would make.
    const objectives = new Array(1_000_001) as ObjectiveRule[];
    const added = { ...(base.ruleSet.objectives[0] as ObjectiveRule), id: 'one-too-many' };
    objectives[1_000_000] = added;
    const problem = checkObjectiveChanges({ ...base.ruleSet, version: 2, objectives }, base, {
      removed: [],
      added: [{ index: 1_000_000, element: added }],
    });
    expect(problem).toMatchObject({ code: 'SCHEMA', path: '/objectives' });
    expect(problem?.message).toContain('1000000');
  });

  test('an objective-only change compiles to what a full compile of the result gives', () => {
    const base = largeRuleSet('acme', 1, 300);
    const { store, apply } = setup();
    const full = setup();
    apply(base);
    let previous = base;
    for (let v = 2; v <= 40; v++) {
      const next = structuredClone(previous) as { -readonly [K in keyof RuleSet]: RuleSet[K] };
      next.version = v;
      const objectives = [...next.objectives];
      if (v % 3 === 0) objectives.splice(v, 1);
      else if (v % 3 === 1)
        objectives.splice(v * 5, 0, {
          ...(objectives[v] as RuleSet['objectives'][number]),
          id: `added-${v}`,
        });
      else
        objectives[v * 7] = {
          ...(objectives[v * 7] as RuleSet['objectives'][number]),
          defaultModel: 'model-0',
        };
      next.objectives = objectives;
      expect(apply(buildRuleDelta(previous, next as RuleSet)).status).toBe('applied');
      expect(full.apply(next).status).toBe('applied');
      const [a, b] = [store.active('acme'), full.store.active('acme')];
      expect([...(a?.objectives ?? [])].sort()).toEqual([...(b?.objectives ?? [])].sort());
      expect(a?.objectives.size).toBe(b?.objectives.size);
      for (const id of ['objective-0', `added-${v}`, `objective-${v}`, 'nope'])
        expect(a?.objectives.get(id)).toEqual(b?.objectives.get(id));
      expect(a?.routingKeys).toEqual(b?.routingKeys as Map<string, string>);
      previous = next as RuleSet;
    }
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
