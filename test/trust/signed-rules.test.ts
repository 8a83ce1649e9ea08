import { describe, expect, test } from 'bun:test';
import { Buffer } from 'node:buffer';
import type { KeyObject } from 'node:crypto';
import { type ApplyOutcome, RuleApplier, RuleStore } from '../../src/rules/index.ts';
import {
  ENVELOPE_CONTENT_TYPE,
  type Envelope,
  generateSigningKey,
  PAYLOAD_TYPES,
  parsePrivateKey,
  parsePublicKey,
  signRuleSet,
  TrustRoot,
} from '../../src/trust/index.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';

/** A signing key: the private half to sign with, the public half to trust, and its id. */
function key() {
  const k = generateSigningKey();
  return {
    id: k.keyId,
    private: parsePrivateKey(k.privatePem),
    public: parsePublicKey(k.publicPem),
  };
}
const [k1, k2, k3] = [key(), key(), key()] as const;

const NOW = Date.parse('2026-11-23T12:00:00Z');
const EXPIRES = '2026-12-31T00:00:00Z';
const set = (version: number, overrides: Record<string, unknown> = {}) =>
  ruleSet('acme', version, { expiresAt: EXPIRES, ...overrides });

function envelope(version: number, keys: KeyObject[], overrides = {}): Envelope {
  return signRuleSet(jsonBytes(set(version, overrides)), 'json', keys);
}
const bytesOf = (e: Envelope | object) => new TextEncoder().encode(JSON.stringify(e));

function applier(trust?: TrustRoot, now = () => NOW) {
  const store = new RuleStore(4);
  const a = new RuleApplier(store, {
    limits: { maxBytes: 1024 * 1024, maxDepth: 32 },
    now,
    ...(trust ? { trust } : {}),
  });
  const apply = (bytes: Uint8Array, contentType?: string): ApplyOutcome =>
    a.apply({ tenant: 'acme', bytes, ...(contentType ? { contentType } : {}) });
  return { applier: a, store, apply };
}
const code = (o: ApplyOutcome) => (o.status === 'rejected' ? o.rejection.code : o.status);
const reason = (o: ApplyOutcome) => (o.status === 'rejected' ? o.rejection.message : '');

describe('signed rule sets', () => {
  test('a set signed by a trusted key is applied and says who signed it', () => {
    const { apply } = applier(new TrustRoot([k1.public, k2.public]));
    const outcome = apply(bytesOf(envelope(1, [k1.private])), ENVELOPE_CONTENT_TYPE);
    expect(code(outcome)).toBe('applied');
    expect(outcome.status === 'applied' && outcome.rules.signedBy).toEqual([k1.id]);
  });

  test('is recognised without a content type (MQTT 3.1.1) and its envelope is what is kept', () => {
    const { apply, store } = applier(new TrustRoot([k1.public]));
    const bytes = bytesOf(envelope(1, [k1.private]));
    expect(code(apply(bytes))).toBe('applied');
    expect(Buffer.compare(store.active('acme')?.raw ?? new Uint8Array(), bytes)).toBe(0);
  });

  test('with trusted keys, a bare set is refused: UNSIGNED', () => {
    const { apply } = applier(new TrustRoot([k1.public]));
    const outcome = apply(jsonBytes(set(1)));
    expect(code(outcome)).toBe('UNSIGNED');
    expect(reason(outcome)).toContain(ENVELOPE_CONTENT_TYPE);
  });

  test('without trusted keys, bare and signed sets are both accepted, signatures unchecked', () => {
    const { apply } = applier();
    expect(code(apply(jsonBytes(set(1))))).toBe('applied');
    const outcome = apply(bytesOf(envelope(2, [k3.private])));
    expect(code(outcome)).toBe('applied');
    expect(outcome.status === 'applied' && outcome.rules.signedBy).toEqual([]);
  });

  describe('threshold abuse', () => {
    test('a key signing twice counts once', () => {
      const { apply } = applier(new TrustRoot([k1.public, k2.public], 2));
      const e = envelope(1, [k1.private]);
      const doubled = { ...e, signatures: [e.signatures[0], e.signatures[0]] };
      const outcome = apply(bytesOf(doubled));
      expect(code(outcome)).toBe('SIGNATURE');
      expect(reason(outcome)).toContain('1 valid signature(s) from trusted keys, 2 needed');
    });

    test('signatures by unknown keys do not count, and are named', () => {
      const { apply } = applier(new TrustRoot([k1.public]));
      const outcome = apply(bytesOf(envelope(1, [k3.private])));
      expect(code(outcome)).toBe('SIGNATURE');
      expect(reason(outcome)).toContain(`unknown key ids: ${k3.id}`);
    });

    test('a signature claiming a trusted key id but made by another key does not count', () => {
      const { apply } = applier(new TrustRoot([k1.public]));
      const e = envelope(1, [k3.private]);
      const forged = { ...e, signatures: [{ keyid: k1.id, sig: e.signatures[0]?.sig }] };
      const outcome = apply(bytesOf(forged));
      expect(code(outcome)).toBe('SIGNATURE');
      expect(reason(outcome)).toContain(`not valid for this payload: ${k1.id}`);
    });

    test('fewer distinct trusted signatures than the threshold are refused; enough are applied', () => {
      const { apply } = applier(new TrustRoot([k1.public, k2.public, k3.public], 2));
      expect(code(apply(bytesOf(envelope(1, [k1.private]))))).toBe('SIGNATURE');
      expect(code(apply(bytesOf(envelope(1, [k1.private, k2.private]))))).toBe('applied');
    });
  });

  describe('mix-and-match and tampering', () => {
    test('the payload of one signed set under the signatures of another is refused', () => {
      const { apply } = applier(new TrustRoot([k1.public]));
      const a = envelope(2, [k1.private]);
      const b = envelope(3, [k1.private]);
      expect(code(apply(bytesOf({ ...a, signatures: b.signatures })))).toBe('SIGNATURE');
    });

    test('one changed byte of the payload breaks the signature', () => {
      const { apply } = applier(new TrustRoot([k1.public]));
      const e = envelope(2, [k1.private]);
      const payload = Buffer.from(e.payload, 'base64');
      payload[payload.indexOf('gpu-east')] = 'G'.charCodeAt(0);
      expect(code(apply(bytesOf({ ...e, payload: payload.toString('base64') })))).toBe('SIGNATURE');
    });

    test('the payload type is signed too: the same bytes relabelled are refused', () => {
      const { apply } = applier(new TrustRoot([k1.public]));
      const e = envelope(2, [k1.private]);
      expect(code(apply(bytesOf({ ...e, payloadType: PAYLOAD_TYPES.msgpack })))).toBe('SIGNATURE');
    });

    test('a malformed envelope is refused with where it is wrong', () => {
      const { apply } = applier(new TrustRoot([k1.public]));
      const e = envelope(2, [k1.private]);
      const cases: Array<[object, string]> = [
        [{ ...e, payload: 'not base64!' }, '/payload'],
        [{ ...e, signatures: [] }, '/signatures'],
        [{ ...e, payloadType: 'text/plain' }, '/payloadType'],
        [{ ...e, extra: 1 }, '/extra'],
        [{ ...e, signatures: [{ keyid: 7 }] }, '/signatures/0'],
      ];
      for (const [bad, path] of cases) {
        const outcome = apply(bytesOf(bad), ENVELOPE_CONTENT_TYPE);
        expect(code(outcome)).toBe('BAD_ENVELOPE');
        expect(outcome.status === 'rejected' && outcome.rejection.path).toBe(path);
      }
    });
  });

  describe('rollback, replay and freeze', () => {
    test('an older, validly signed version is refused: VERSION_REGRESSION', () => {
      const { apply } = applier(new TrustRoot([k1.public]));
      expect(code(apply(bytesOf(envelope(3, [k1.private]))))).toBe('applied');
      expect(code(apply(bytesOf(envelope(2, [k1.private]))))).toBe('VERSION_REGRESSION');
    });

    test('the same version again is a no-op, even re-signed by another trusted key', () => {
      const { apply, store } = applier(new TrustRoot([k1.public, k2.public]));
      expect(code(apply(bytesOf(envelope(3, [k1.private]))))).toBe('applied');
      expect(code(apply(bytesOf(envelope(3, [k1.private]))))).toBe('unchanged');
      expect(code(apply(bytesOf(envelope(3, [k2.private]))))).toBe('unchanged');
      expect(store.active('acme')?.version).toBe(3);
    });

    test('signed sets must say when they expire; an expired one is refused', () => {
      const { apply } = applier(new TrustRoot([k1.public]));
      const noExpiry = ruleSet('acme', 1);
      const unsigned = signRuleSet(jsonBytes(noExpiry), 'json', [k1.private]);
      expect(code(apply(bytesOf(unsigned)))).toBe('NO_EXPIRY');
      const expired = envelope(2, [k1.private], { expiresAt: '2026-11-20T00:00:00Z' });
      expect(code(apply(bytesOf(expired)))).toBe('EXPIRED');
    });

    test('clock moved forward: a set that was current is now expired and refused', () => {
      let now = NOW;
      const { apply } = applier(new TrustRoot([k1.public]), () => now);
      const e = bytesOf(envelope(1, [k1.private]));
      now = Date.parse('2027-01-01T00:00:00Z');
      expect(code(apply(e))).toBe('EXPIRED');
    });

    test('clock moved backward: an expired old set looks current, but the version floor holds', () => {
      let now = NOW;
      const { apply } = applier(new TrustRoot([k1.public]), () => now);
      const old = bytesOf(envelope(1, [k1.private], { expiresAt: '2026-11-30T00:00:00Z' }));
      expect(code(apply(bytesOf(envelope(2, [k1.private]))))).toBe('applied');
      now = Date.parse('2026-11-24T00:00:00Z'); // before v1's expiry again
      expect(code(apply(old))).toBe('VERSION_REGRESSION');
    });
  });

  test('key rotation without downtime: add a key, sign with both, drop the old one', () => {
    const { applier: a, apply } = applier(new TrustRoot([k1.public]));
    expect(code(apply(bytesOf(envelope(1, [k1.private]))))).toBe('applied');
    a.setTrust(new TrustRoot([k1.public, k2.public])); // new key added on every host
    expect(code(apply(bytesOf(envelope(2, [k1.private, k2.private]))))).toBe('applied');
    a.setTrust(new TrustRoot([k2.public])); // old key removed
    expect(code(apply(bytesOf(envelope(3, [k2.private]))))).toBe('applied');
    expect(code(apply(bytesOf(envelope(4, [k1.private]))))).toBe('SIGNATURE');
  });

  test('endless data: an envelope over the size cap is refused before it is decoded', () => {
    const { apply } = applier(new TrustRoot([k1.public]));
    const huge = new Uint8Array(2 * 1024 * 1024).fill(0x20);
    huge.set(new TextEncoder().encode('{"payloadType":'), 0);
    const outcome = apply(huge, ENVELOPE_CONTENT_TYPE);
    expect(code(outcome)).toBe('TOO_LARGE');
  });

  test('the trust root refuses a threshold above its distinct keys', () => {
    expect(() => new TrustRoot([k1.public, k1.public], 2)).toThrow(/more than the 1 distinct/);
    expect(() => new TrustRoot([k1.public], 0)).toThrow(RangeError);
    expect(new TrustRoot([k1.public, k2.public]).fingerprint).not.toBe(
      new TrustRoot([k1.public, k3.public]).fingerprint,
    );
  });
});
