import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { pack } from 'msgpackr';
import {
  type ApplyOutcome,
  REJECTION_CODES,
  RuleApplier,
  RuleStore,
} from '../../src/rules/index.ts';
import {
  ENVELOPE_CONTENT_TYPE,
  generateSigningKey,
  parsePublicKey,
  TrustRoot,
} from '../../src/trust/index.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
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
  expect(['applied', 'unchanged', 'rejected']).toContain(outcome.status);
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
