import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { pack } from 'msgpackr';
import { decodeDocument, FORBIDDEN_KEYS } from '../../src/codec/index.ts';
import { RuleApplier, RuleStore } from '../../src/rules/index.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';

const limits = { maxBytes: 1 << 20, maxDepth: 16 };
const RUNS = 300;

// JSON values without forbidden keys and without -0 (which JSON cannot carry).
const plainJson = fc
  .jsonValue({ maxDepth: 6 })
  .filter((v) => !JSON.stringify(v).match(/"(__proto__|constructor|prototype)":/));

describe('decodeDocument properties', () => {
  test('never throws on arbitrary bytes, with or without a content type', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 512 }),
        fc.constantFrom(undefined, 'application/json', 'application/msgpack'),
        (bytes, contentType) => {
          const result = decodeDocument(bytes, limits, contentType);
          if (!result.ok) expect(result.error.message.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });

  test('never throws on truncations and single-byte corruptions of valid MessagePack', () => {
    fc.assert(
      fc.property(plainJson, fc.nat(), fc.nat(255), (value, cut, byte) => {
        const bytes = new Uint8Array(pack({ v: value }));
        decodeDocument(bytes.subarray(0, cut % (bytes.length + 1)), limits);
        const corrupt = bytes.slice();
        corrupt[cut % corrupt.length] = byte;
        decodeDocument(corrupt, limits);
      }),
      { numRuns: RUNS },
    );
  });

  test('decodes what JSON.stringify and msgpackr wrote back to the same value', () => {
    fc.assert(
      fc.property(plainJson, (value) => {
        const doc = { v: value };
        expect(decodeDocument(jsonBytes(doc), limits)).toMatchObject({
          ok: true,
          value: JSON.parse(JSON.stringify(doc)),
        });
        const packed = decodeDocument(new Uint8Array(pack(doc)), limits);
        expect(packed.ok).toBe(true);
        if (packed.ok) expect(JSON.stringify(packed.value)).toBe(JSON.stringify(doc));
      }),
      { numRuns: RUNS },
    );
  });

  test('refuses a forbidden key wherever it is placed', () => {
    fc.assert(
      fc.property(
        plainJson,
        fc.constantFrom(...FORBIDDEN_KEYS),
        fc.boolean(),
        (value, key, asMsgpack) => {
          const text = `{"a":[{"b":${JSON.stringify(value)}},{"${key}":1}]}`;
          const bytes = asMsgpack
            ? new Uint8Array(pack(JSON.parse(text)))
            : new TextEncoder().encode(text);
          const result = decodeDocument(bytes, limits);
          expect(result.ok ? null : result.error.kind).toBe('FORBIDDEN_KEY');
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('RuleApplier properties', () => {
  test('a valid set with any one field replaced by a random value is applied or refused, never thrown, and never half-applied', () => {
    const base = ruleSet('acme', 2) as unknown as Record<string, unknown>;
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(base), 'extra'),
        fc.jsonValue({ maxDepth: 3 }),
        (field, value) => {
          const store = new RuleStore(2);
          const applier = new RuleApplier(store, {
            limits,
            now: () => Date.parse('2026-11-23T00:00:00Z'),
          });
          applier.apply({ tenant: 'acme', bytes: jsonBytes(ruleSet('acme', 1)) });
          const outcome = applier.apply({
            tenant: 'acme',
            bytes: jsonBytes({ ...base, [field]: value }),
          });
          const active = store.active('acme')?.version;
          expect(active).toBe(outcome.status === 'applied' ? outcome.version : 1);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
