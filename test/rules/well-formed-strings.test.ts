import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { pack } from 'msgpackr';
import {
  DELTA_CONTENT_TYPE,
  DELTA_KIND,
  RuleApplier,
  type RuleSet,
  RuleStore,
  ruleSetDigest,
} from '../../src/rules/index.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';

const LIMITS = { maxBytes: 1 << 20, maxDepth: 32 };

function applier() {
  const store = new RuleStore(2);
  const rules = new RuleApplier(store, {
    limits: LIMITS,
    now: () => Date.parse('2026-11-23T00:00:00Z'),
  });
  expect(rules.apply({ tenant: 'acme', bytes: jsonBytes(ruleSet('acme', 5)) }).status).toBe(
    'applied',
  );
  return { store, rules };
}

/** v6 of the test set with `text` as its payload schema's description. */
function withDescription(text: string): RuleSet {
  return ruleSet('acme', 6, {
    schemas: [
      { id: 'chat/v1', schema: { type: 'object', required: ['messages'], description: text } },
    ],
  });
}

const encoder = new TextEncoder();

/** Applies `delta` (any object, sent as a delta's JSON) to `rules`. */
function applyDelta(rules: RuleApplier, delta: object) {
  return rules.apply({
    tenant: 'acme',
    bytes: encoder.encode(JSON.stringify(delta)),
    contentType: DELTA_CONTENT_TYPE,
  });
}

describe('strings that are not well formed are refused at decode', () => {
  test('a JSON description cut mid-emoji ("\\ud83d") is ILL_FORMED_STRING, with its path', () => {
    const { store, rules } = applier();
    // JSON.stringify writes the lone surrogate as the escape \ud83d (well-formed JSON text).
    const bytes = encoder.encode(JSON.stringify(withDescription('cut \ud83d')));
    expect(new TextDecoder().decode(bytes)).toContain('\\ud83d');
    const outcome = rules.apply({ tenant: 'acme', bytes });
    expect(outcome).toMatchObject({
      status: 'rejected',
      activeVersion: 5,
      rejection: { code: 'ILL_FORMED_STRING', path: '/schemas/0/schema/description' },
    });
    expect(store.active('acme')?.version).toBe(5);
  });

  test('a key with a lone surrogate is refused too', () => {
    const { rules } = applier();
    const set = ruleSet('acme', 6, {
      schemas: [{ id: 'chat/v1', schema: { type: 'object', properties: { 'a\udc00': {} } } }],
    });
    const outcome = rules.apply({ tenant: 'acme', bytes: encoder.encode(JSON.stringify(set)) });
    expect(outcome).toMatchObject({ status: 'rejected', rejection: { code: 'ILL_FORMED_STRING' } });
  });

  test('a MessagePack str holding an encoded surrogate (ED A0 BD) is refused, with its path', () => {
    const { rules } = applier();
    const marker = 'XXXXXXXXXX';
    const packed = new Uint8Array(pack(withDescription(marker)));
    // Replace the marker's bytes in place with a surrogate encoded as UTF-8 would not allow.
    const at = Buffer.from(packed).indexOf(marker);
    packed.set([0xed, 0xa0, 0xbd, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41], at);
    const outcome = rules.apply({
      tenant: 'acme',
      bytes: packed,
      contentType: 'application/msgpack',
    });
    expect(outcome).toMatchObject({
      status: 'rejected',
      rejection: { code: 'ILL_FORMED_STRING', path: '/schemas/0/schema/description' },
    });
  });

  test('a delta whose patch writes a lone surrogate is refused, and later deltas still apply', async () => {
    const { store, rules } = applier();
    await rules.prepareForDelta('acme');
    const bad = {
      kind: DELTA_KIND,
      tenant: 'acme',
      base: 5,
      version: 6,
      digest: 'sha256:00',
      patch: [{ op: 'add', path: '/schemas/0/schema/description', value: 'cut \ud83d' }],
    };
    const refused = applyDelta(rules, bad);
    expect(refused).toMatchObject({ status: 'rejected', rejection: { code: 'ILL_FORMED_STRING' } });
    const good = withDescription('whole 😀');
    const delta = {
      ...bad,
      digest: ruleSetDigest(good),
      patch: [
        { op: 'replace', path: '/version', value: 6 },
        { op: 'add', path: '/schemas/0/schema/description', value: 'whole 😀' },
      ],
    };
    const applied = applyDelta(rules, delta);
    expect(applied.status).toBe('applied');
    expect(store.active('acme')?.version).toBe(6);
  });
});

/** Any UTF-16 code units, lone surrogates included. */
const anyUnits = fc
  .array(fc.oneof(fc.integer({ min: 0xd800, max: 0xdfff }), fc.integer({ min: 0, max: 0xffff })), {
    maxLength: 12,
  })
  .map((units) => String.fromCharCode(...units));

describe('apply() never throws, and a set it applies can always be hashed and built on', () => {
  test('any string in a free-form field: applied exactly when well formed, nothing thrown, no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await fc.assert(
        fc.asyncProperty(anyUnits, fc.boolean(), async (text, msgpack) => {
          const { store, rules } = applier();
          const set = withDescription(text);
          const bytes = msgpack ? new Uint8Array(pack(set)) : encoder.encode(JSON.stringify(set));
          const outcome = rules.apply({
            tenant: 'acme',
            bytes,
            contentType: msgpack ? 'application/msgpack' : 'application/json',
          });
          expect(outcome.status).toBe(text.isWellFormed() ? 'applied' : 'rejected');
          if (outcome.status !== 'applied') return;
          // What was applied has a digest, so a delta can be built on it.
          await rules.prepareForDelta('acme');
          const next = { ...set, version: 7 };
          const delta = {
            kind: DELTA_KIND,
            tenant: 'acme',
            base: 6,
            version: 7,
            digest: ruleSetDigest(next),
            patch: [{ op: 'replace', path: '/version', value: 7 }],
          };
          const onTop = applyDelta(rules, delta);
          expect(onTop.status).toBe('applied');
          expect(store.active('acme')?.version).toBe(7);
        }),
        { numRuns: Number(process.env.FUZZ_RUNS ?? 300) },
      );
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('a fault of filament while applying is an INTERNAL refusal, not an exception', () => {
    const { store, rules } = applier();
    const message = {
      tenant: 'acme',
      get bytes(): Uint8Array {
        throw new Error('boom');
      },
    };
    expect(rules.apply(message)).toMatchObject({
      status: 'rejected',
      activeVersion: 5,
      rejection: { code: 'INTERNAL', message: expect.stringContaining('boom') },
    });
    expect(store.active('acme')?.version).toBe(5);
  });
});
