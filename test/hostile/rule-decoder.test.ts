import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { pack } from 'msgpackr';
import {
  type ApplyOutcome,
  applyRuleDelta,
  buildRuleDelta,
  DELTA_CONTENT_TYPE,
  DELTA_KIND,
  parseRuleDelta,
  REJECTION_CODES,
  RuleApplier,
  type RuleSet,
  RuleStore,
  ruleSetDigest,
} from '../../src/rules/index.ts';
import {
  ENVELOPE_CONTENT_TYPE,
  generateSigningKey,
  parsePrivateKey,
  parsePublicKey,
  signRuleDelta,
  signRuleSet,
  TrustRoot,
} from '../../src/trust/index.ts';
import { jsonBytes, largeRuleSet, ruleSet } from '../helpers/rule-sets.ts';
import { hostileDocuments, RUNS, withinBudget } from './hostile-inputs.ts';

const CONTENT_TYPES = [
  undefined,
  'application/json',
  'application/msgpack',
  ENVELOPE_CONTENT_TYPE,
  'text/plain',
];

function applierWithRules(trust?: TrustRoot) {
  const store = new RuleStore(2);
  const applier = new RuleApplier(store, {
    limits: { maxBytes: 1 << 20, maxDepth: 32 },
    now: () => Date.parse('2026-11-23T00:00:00Z'),
  });
  applier.apply({ tenant: 'acme', bytes: jsonBytes(ruleSet('acme', 5)) });
  if (trust) applier.setTrust(trust);
  return { store, applier };
}

/** A refusal names a known code and says something; anything else is a valid outcome. */
function expectClear(outcome: ApplyOutcome): void {
  expect(['applied', 'unchanged', 'rejected', 'needs-full']).toContain(outcome.status);
  if (outcome.status === 'rejected') {
    expect(REJECTION_CODES).toContain(outcome.rejection.code);
    expect(outcome.rejection.message.length).toBeGreaterThan(0);
  }
}

describe('hostile rule messages', () => {
  const valid = [jsonBytes(ruleSet('acme', 6)), new Uint8Array(pack(ruleSet('acme', 6)))];

  for (const signed of [false, true]) {
    test(`${signed ? 'with' : 'without'} trusted keys: every input is refused clearly or applied, never thrown, and a refusal leaves the rules alone`, () => {
      const trust = signed
        ? new TrustRoot([parsePublicKey(generateSigningKey().publicPem)])
        : undefined;
      fc.assert(
        fc.property(
          fc.oneof(
            hostileDocuments(valid[0] as Uint8Array),
            hostileDocuments(valid[1] as Uint8Array),
          ),
          fc.constantFrom(...CONTENT_TYPES),
          (bytes, contentType) => {
            const { store, applier } = applierWithRules(trust);
            const before = store.active('acme');
            const outcome = withinBudget(() =>
              applier.apply({ tenant: 'acme', bytes, ...(contentType ? { contentType } : {}) }),
            );
            expectClear(outcome);
            if (outcome.status !== 'applied') expect(store.active('acme')).toBe(before);
            // Nothing leaked onto Object.prototype from a __proto__ key.
            expect(({} as Record<string, unknown>).polluted).toBeUndefined();
          },
        ),
        { numRuns: RUNS },
      );
    });
  }
});

describe('hostile rule deltas', () => {
  const base = ruleSet('acme', 5);
  const segment = fc.oneof(
    fc.constantFrom(
      'objectives',
      'models',
      'schemas',
      '0',
      '1',
      '-',
      '99',
      'id',
      'cells',
      'version',
    ),
    fc.constantFrom('__proto__', 'constructor', 'prototype', '', '~', '~0', '~1', '01', '-1'),
    fc.string({ maxLength: 8 }),
  );
  const path = fc
    .array(segment, { minLength: 0, maxLength: 40 })
    .map((parts) => parts.map((p) => `/${p}`).join(''));
  const op = fc.record(
    {
      op: fc.constantFrom('add', 'remove', 'replace', 'test', 'move', 'copy', 'delete', 42),
      path: fc.oneof(path, fc.constant('/objectives/0/id'), fc.anything()),
      value: fc.jsonValue({ maxDepth: 6 }),
      from: path,
    },
    { requiredKeys: ['op', 'path'] },
  );
  const delta = fc.record({
    kind: fc.constantFrom('filament.rules.delta/v1', 'other'),
    tenant: fc.constantFrom('acme', 'globex'),
    base: fc.constantFrom(5, 4, 0, -1, 1.5, 2 ** 60),
    version: fc.constantFrom(6, 5, 7, 2 ** 53),
    digest: fc.oneof(fc.constant(`sha256:${'a'.repeat(64)}`), fc.string({ maxLength: 80 })),
    patch: fc.array(op, { maxLength: 30 }),
  });

  test('every delta is refused clearly, needs the full set, or is applied — never thrown; refusals leave the rules alone', () => {
    fc.assert(
      fc.property(delta, (d) => {
        const { store, applier } = applierWithRules();
        const before = store.active('acme');
        const outcome = withinBudget(() =>
          applier.apply({
            tenant: 'acme',
            bytes: jsonBytes(d),
            contentType: 'application/vnd.filament.rules-delta+json',
          }),
        );
        expectClear(outcome);
        // A refused patch never touched the active set, not even in place.
        if (outcome.status !== 'applied') expect(store.active('acme')).toBe(before);
        expect(before?.ruleSet).toEqual(base);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: RUNS },
    );
  });

  test('mutated bytes of a valid delta are handled the same way', () => {
    const valid = jsonBytes({
      kind: 'filament.rules.delta/v1',
      tenant: 'acme',
      base: 5,
      version: 6,
      digest: `sha256:${'a'.repeat(64)}`,
      patch: [{ op: 'replace', path: '/version', value: 6 }],
    });
    fc.assert(
      fc.property(hostileDocuments(valid), (bytes) => {
        const { store, applier } = applierWithRules();
        const before = store.active('acme');
        const outcome = withinBudget(() =>
          applier.apply({
            tenant: 'acme',
            bytes,
            contentType: 'application/vnd.filament.rules-delta+json',
          }),
        );
        expectClear(outcome);
        if (outcome.status !== 'applied') expect(store.active('acme')).toBe(before);
      }),
      { numRuns: RUNS },
    );
  });

  test('with the right digest, a delta is applied exactly when its result would be as a full set', () => {
    // Someone who can publish can compute digests: the checks after the digest — done on what
    // changed alone for objective-only deltas — must agree with a full set's, case by case.
    const six = largeRuleSet('acme', 5, 6, 3);
    const limits = { maxBytes: 1 << 20, maxDepth: 32 };
    const fresh = () => {
      const store = new RuleStore(2);
      const applier = new RuleApplier(store, {
        limits,
        now: () => Date.parse('2026-11-23T00:00:00Z'),
      });
      applier.apply({ tenant: 'acme', bytes: jsonBytes(six) });
      return { store, applier };
    };
    const objectiveOp = fc.record({
      op: fc.constantFrom('add', 'remove', 'replace'),
      path: fc
        .tuple(
          fc.constantFrom('/objectives/0', '/objectives/3', '/objectives/-', '/objectives/5'),
          fc.constantFrom('', '', '/id', '/defaultModel', '/cells/0/percent', '/canary', '/x'),
        )
        .map(([a, b]) => a + b),
      value: fc.oneof(
        fc.constantFrom('model-1', 'missing', 'objective-4', 'new', 100, 90, [], {}),
        fc.record({
          id: fc.constantFrom('objective-1', 'new', 'other'),
          defaultModel: fc.constantFrom('model-0', 'missing'),
        }),
        fc.jsonValue({ maxDepth: 3 }),
      ),
    });
    const patch = fc.array(fc.oneof(objectiveOp, objectiveOp, op), { minLength: 1, maxLength: 4 });
    // A document whose sections are not arrays has no digest; it is refused by shape first.
    const digestOf = (doc: RuleSet) =>
      [doc.schemas, doc.models, doc.objectives].every(Array.isArray)
        ? ruleSetDigest(doc)
        : `sha256:${'0'.repeat(64)}`;
    const seen = new Set<string>();
    fc.assert(
      fc.property(patch, (ops) => {
        const withVersion = [...ops, { op: 'replace', path: '/version', value: 6 }];
        const d = { kind: DELTA_KIND, tenant: 'acme', base: 5, version: 6, patch: withVersion };
        const parsed = parseRuleDelta(
          jsonBytes({ ...d, digest: `sha256:${'0'.repeat(64)}` }),
          limits,
        );
        if (!parsed.ok) return;
        const patched = applyRuleDelta(six, parsed.value);
        if (!patched.ok) return;
        const { store, applier } = fresh();
        const outcome = withinBudget(() =>
          applier.apply({
            tenant: 'acme',
            bytes: jsonBytes({ ...d, digest: digestOf(patched.value) }),
            contentType: DELTA_CONTENT_TYPE,
          }),
        );
        expectClear(outcome);
        const asFullSet = fresh().applier.apply({
          tenant: 'acme',
          bytes: jsonBytes(patched.value),
        });
        const status = (o: ApplyOutcome) =>
          o.status === 'rejected' ? `rejected ${o.rejection.code}` : o.status;
        // Both applied, or both refused (the first problem named may differ when there are two).
        expect({ ops, delta: outcome.status }).toEqual({ ops, delta: asFullSet.status });
        if (outcome.status === 'applied' && asFullSet.status === 'applied') {
          expect(new Map(outcome.rules.objectives)).toEqual(new Map(asFullSet.rules.objectives));
          expect(store.active('acme')?.ruleSet).toEqual(asFullSet.rules.ruleSet);
        }
        seen.add(status(outcome));
      }),
      { numRuns: RUNS },
    );
    // The property was tried on deltas both ways (which refusals come up varies from run to run).
    expect(seen).toContain('applied');
    expect([...seen].some((s) => s.startsWith('rejected'))).toBe(true);
  });

  test('with trusted keys, mutated bytes of a signed delta are refused unless they still verify', () => {
    const key = generateSigningKey();
    const trust = new TrustRoot([parsePublicKey(key.publicPem)], 1);
    const v6 = { ...ruleSet('acme', 6), expiresAt: '2099-01-01T00:00:00Z' };
    const v5 = { ...ruleSet('acme', 5), expiresAt: '2099-01-01T00:00:00Z' };
    const envelope = jsonBytes(
      signRuleDelta(jsonBytes(buildRuleDelta(v5, v6)), [parsePrivateKey(key.privatePem)]),
    );
    fc.assert(
      fc.property(hostileDocuments(envelope), (bytes) => {
        const store = new RuleStore(2);
        const applier = new RuleApplier(store, {
          limits: { maxBytes: 1 << 20, maxDepth: 32 },
          now: () => Date.parse('2026-11-23T00:00:00Z'),
          trust,
        });
        applier.apply({
          tenant: 'acme',
          bytes: jsonBytes(signRuleSet(jsonBytes(v5), 'json', [parsePrivateKey(key.privatePem)])),
          contentType: ENVELOPE_CONTENT_TYPE,
        });
        const before = store.active('acme');
        expect(before?.version).toBe(5);
        const outcome = withinBudget(() =>
          applier.apply({ tenant: 'acme', bytes, contentType: ENVELOPE_CONTENT_TYPE }),
        );
        expectClear(outcome);
        if (outcome.status === 'applied') expect(outcome.rules.ruleSet).toEqual(v6);
        else expect(store.active('acme')).toBe(before);
      }),
      { numRuns: RUNS },
    );
  });
});
