import { describe, expect, test } from 'bun:test';
import {
  answerCarrier,
  answerUnchecked,
  answerVerdict,
  REFUSAL_KIND,
} from '../../src/request-check/index.ts';
import { REASON_CODES } from '../../src/validation/index.ts';

describe('what a proxy is told', () => {
  test('every reason code is classified: retry elsewhere (421), or refused (4xx, not retried)', () => {
    expect(Object.keys(REFUSAL_KIND).sort()).toEqual([...REASON_CODES].sort());
    const elsewhere = REASON_CODES.filter((c) => REFUSAL_KIND[c].kind === 'elsewhere').sort();
    expect(elsewhere).toEqual([
      'ADAPTER_BASE_MISMATCH',
      'ADAPTER_NOT_LOADED',
      'ADAPTER_NOT_OURS',
      'HOST_BEHIND',
      'INVENTORY_UNCONFIRMED',
      'MODEL_NOT_LOADED',
      'MODEL_NOT_READY',
      'MODEL_VERSION_MISMATCH',
      'ROUTING_KEY_NOT_SERVED',
      'RULE_VERSION_UNKNOWN',
      'UNKNOWN_TENANT',
    ]);
    for (const code of REASON_CODES) {
      const { kind, status } = REFUSAL_KIND[code];
      expect({
        code,
        ok: kind === 'elsewhere' ? status === 421 : status >= 400 && status < 500 && status !== 421,
      }).toEqual({ code, ok: true });
    }
  });

  test('allow, elsewhere (also as 503), refused, malformed, unchecked', () => {
    expect(
      answerVerdict({ ok: true, ruleVersion: 7, role: 'default', payload: 'checked' }),
    ).toEqual({
      status: 200,
      headers: {
        'filament-verdict': 'allow',
        'filament-rule-version': '7',
        'content-type': 'application/json',
      },
      body: '{"verdict":"allow","ruleVersion":7,"payload":"checked"}\n',
    });
    const notLoaded = {
      ok: false as const,
      code: 'MODEL_NOT_LOADED' as const,
      message: 'm is not loaded',
    };
    expect(answerVerdict(notLoaded)).toMatchObject({
      status: 421,
      headers: { 'filament-verdict': 'elsewhere', 'filament-reason': 'MODEL_NOT_LOADED' },
    });
    expect(answerVerdict(notLoaded, 503).status).toBe(503);
    const invalid = {
      ok: false as const,
      code: 'PAYLOAD_INVALID' as const,
      message: 'must have required property messages',
      path: '',
    };
    expect(answerVerdict(invalid, 503)).toMatchObject({
      status: 422,
      headers: { 'filament-verdict': 'refused', 'filament-reason': 'PAYLOAD_INVALID' },
    });
    expect(JSON.parse(answerVerdict(invalid).body)).toEqual({
      verdict: 'refused',
      code: 'PAYLOAD_INVALID',
      message: 'must have required property messages',
      path: '',
    });
    expect(answerCarrier({ code: 'CARRIER_MISSING', message: 'x' })).toMatchObject({
      status: 400,
      headers: { 'filament-verdict': 'malformed', 'filament-reason': 'CARRIER_MISSING' },
    });
    expect(answerUnchecked('no carrier')).toMatchObject({
      status: 200,
      headers: { 'filament-verdict': 'unchecked' },
    });
  });
});

describe('Filament-Message', () => {
  test('any sentence: ASCII, at most 512 characters, the inside of a JSON string (property)', async () => {
    const fc = (await import('fast-check')).default;
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), (message) => {
        const header = answerCarrier({ code: 'CARRIER_MALFORMED', message }).headers[
          'filament-message'
        ] as string;
        expect(header.length).toBeLessThanOrEqual(512);
        expect(/^[\x20-\x7e]*$/.test(header)).toBe(true);
        const back = JSON.parse(`"${header}"`) as string;
        if (header.length < 500) expect(back).toBe(message);
        else expect(message.startsWith(back.replace(/\.\.\.$/, '').slice(0, -1))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
