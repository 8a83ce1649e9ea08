import { describe, expect, test } from 'bun:test';
import { pack } from 'msgpackr';
import { REASON_CODES, type ReasonCode } from '../../src/validation/index.ts';
import { jsonBytes } from '../helpers/rule-sets.ts';
import { LIVE_ONLY_CODES, validationFixture } from '../helpers/validation-fixture.ts';

const chatPayload = { messages: [{ content: 'hello' }] };

describe('RequestValidator accepts', () => {
  const { validator, config } = validationFixture();
  const cases: Array<[string, Parameters<typeof config>[0], string]> = [
    ['the default model', {}, 'default'],
    [
      'a model in its A/B cell',
      { model: 'qwen', routingKey: 'acme.qwen', modelVersion: '1', cell: 'B' },
      'cell',
    ],
    ['the default model placed in its cell', { cell: 'A' }, 'cell'],
    ['a canary', { model: 'canary', routingKey: 'acme.canary', modelVersion: '1' }, 'canary'],
    [
      'a shadow target',
      { model: 'shadow', routingKey: 'acme.shadow', modelVersion: '1' },
      'shadow',
    ],
    [
      'a fallback target',
      { model: 'fallback', routingKey: 'acme.fallback', modelVersion: '1' },
      'fallback',
    ],
    [
      'the oldest kept rule version, with the model version it named',
      { ruleVersion: 3, modelVersion: '2026-10-01' },
      'default',
    ],
    ['a resolver one version behind', { ruleVersion: 4, modelVersion: '2026-10-01' }, 'default'],
  ];
  for (const [name, overrides, role] of cases) {
    test(name, () => {
      expect(validator.validate(config(overrides))).toMatchObject({
        ok: true,
        role,
        payload: 'none',
      });
    });
  }

  test('JSON and MessagePack payloads, and already-decoded values', () => {
    for (const payload of [
      { bytes: jsonBytes(chatPayload) },
      { bytes: new Uint8Array(pack(chatPayload)), contentType: 'application/msgpack' },
      { value: chatPayload },
    ]) {
      expect(validator.validate(config(), payload)).toMatchObject({ ok: true, payload: 'checked' });
    }
  });

  test('a tensor payload in MessagePack bytes and as a JSON number list', () => {
    const embed = config({
      objective: 'embed',
      model: 'embed',
      routingKey: 'acme.embed',
      modelVersion: '1',
      schemaId: 'embed/v1',
    });
    const bytes = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]).buffer);
    const packed = new Uint8Array(
      pack({ input: { dtype: 'float32', shape: [2, 4], data: bytes } }),
    );
    expect(validator.validate(embed, { bytes: packed })).toMatchObject({
      ok: true,
      payload: 'checked',
    });
    const json = jsonBytes({ input: { dtype: 'float32', shape: [1, 4], data: [0.5, 1, 2, 3] } });
    expect(validator.validate(embed, { bytes: json })).toMatchObject({
      ok: true,
      payload: 'checked',
    });
  });

  test('skips payloads when validation is off, and checks one in N when sampled', () => {
    expect(validator.validate(config({ objective: 'quiet' }), { value: {} })).toMatchObject({
      ok: true,
      payload: 'off',
    });
    const sampled = config({ objective: 'sampled' });
    const outcomes = Array.from({ length: 9 }, () => {
      const verdict = validator.validate(sampled, { value: {} });
      return verdict.ok ? verdict.payload : verdict.code;
    });
    expect(outcomes).toEqual([
      'sampled-out',
      'sampled-out',
      'PAYLOAD_INVALID',
      'sampled-out',
      'sampled-out',
      'PAYLOAD_INVALID',
      'sampled-out',
      'sampled-out',
      'PAYLOAD_INVALID',
    ]);
  });
});

describe('RequestValidator refuses, with a reason code for each problem', () => {
  const { validator, config, applier } = validationFixture([3, 4, 5, 7]);
  void applier;
  const embed = {
    objective: 'embed',
    model: 'embed',
    routingKey: 'acme.embed',
    modelVersion: '1',
    schemaId: 'embed/v1',
  };
  const cases: Array<
    [string, Parameters<typeof config>[0], ReasonCode, string | undefined, unknown?]
  > = [
    ['a missing objective', { objective: '' }, 'INVALID_ARGUMENT', 'objective'],
    ['a fractional rule version', { ruleVersion: 1.5 }, 'INVALID_ARGUMENT', 'ruleVersion'],
    ['an unknown tenant', { tenant: 'globex' }, 'UNKNOWN_TENANT', 'tenant'],
    ['a version newer than the host has', { ruleVersion: 8 }, 'HOST_BEHIND', 'ruleVersion'],
    [
      'a version older than the oldest kept',
      { ruleVersion: 3, modelVersion: '2026-10-01' },
      'RULE_VERSION_TOO_OLD',
      'ruleVersion',
    ],
    [
      'a version inside the window that this host never applied',
      { ruleVersion: 6 },
      'RULE_VERSION_UNKNOWN',
      'ruleVersion',
    ],
    ['an unknown objective', { objective: 'summarise' }, 'UNKNOWN_OBJECTIVE', 'objective'],
    ['an unknown model', { model: 'mistral' }, 'UNKNOWN_MODEL', 'model'],
    [
      'a model that is not a target of the objective',
      { objective: 'embed' },
      'NOT_A_TARGET',
      'model',
    ],
    ['an unknown cell', { cell: 'C' }, 'UNKNOWN_CELL', 'cell'],
    ['a cell that routes to another model', { cell: 'B' }, 'UNKNOWN_CELL', 'cell'],
    [
      'a stale model version',
      { modelVersion: '2026-10-01' },
      'MODEL_VERSION_MISMATCH',
      'modelVersion',
    ],
    [
      'a routingKey of another model',
      { routingKey: 'acme.qwen' },
      'ROUTING_KEY_MISMATCH',
      'routingKey',
    ],
    [
      'a routingKey on another cluster',
      { model: 'far', routingKey: 'acme.far', modelVersion: '1' },
      'ROUTING_KEY_NOT_SERVED',
      'routingKey',
    ],
    ['a schema id that moved on', { schemaId: 'chat/v0' }, 'SCHEMA_MISMATCH', 'schemaId'],
    [
      'a model not loaded here',
      { model: 'absent', routingKey: 'acme.absent', modelVersion: '1' },
      'MODEL_NOT_LOADED',
      'model',
    ],
    [
      'a model loaded but not ready',
      { model: 'cold', routingKey: 'acme.cold', modelVersion: '1' },
      'MODEL_NOT_READY',
      'model',
    ],
    [
      'an undecodable payload',
      {},
      'PAYLOAD_UNDECODABLE',
      'payload',
      { bytes: new TextEncoder().encode('{"messages": [') },
    ],
    [
      'a payload with a forbidden key',
      {},
      'PAYLOAD_UNDECODABLE',
      'payload',
      { bytes: new TextEncoder().encode('{"__proto__": {}}') },
    ],
    [
      'a payload missing a required field',
      {},
      'PAYLOAD_INVALID',
      'payload',
      { bytes: jsonBytes({ prompt: 'hi' }) },
    ],
    [
      'a payload with a wrong type deep inside',
      {},
      'PAYLOAD_INVALID',
      'payload',
      { value: { messages: [{ content: 7 }] } },
    ],
    [
      'a tensor of the wrong shape',
      embed,
      'PAYLOAD_INVALID',
      'payload',
      { value: { input: { dtype: 'float32', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] } } },
    ],
    [
      'a tensor with too few bytes',
      embed,
      'PAYLOAD_INVALID',
      'payload',
      {
        bytes: new Uint8Array(
          pack({ input: { dtype: 'float32', shape: [1, 4], data: new Uint8Array(12) } }),
        ),
      },
    ],
  ];
  const reached = new Set<ReasonCode>();
  for (const [name, overrides, code, field, payload] of cases) {
    test(name, () => {
      const verdict = validator.validate(config(overrides), payload as never);
      expect(verdict).toMatchObject({ ok: false, code, field });
      if (!verdict.ok) expect(verdict.message.length).toBeGreaterThan(15);
      reached.add(code);
    });
  }

  test('payload refusals name the JSON pointer and the keyword', () => {
    const deep = validator.validate(config(), { value: { messages: [{ content: 7 }] } });
    expect(deep).toMatchObject({
      code: 'PAYLOAD_INVALID',
      path: '/messages/0/content',
      keyword: 'type',
    });
    const tensor = validator.validate(config(embed), {
      value: { input: { dtype: 'float32', shape: [2, 3], data: [] } },
    });
    expect(tensor).toMatchObject({
      code: 'PAYLOAD_INVALID',
      path: '/input/shape/1',
      keyword: 'tensor',
    });
  });

  test('every reason code is reached (here, or with a live inventory)', () => {
    expect([...reached, ...LIVE_ONLY_CODES].sort()).toEqual([...REASON_CODES].sort());
  });

  test('never throws on nonsense', () => {
    for (const junk of [
      null,
      undefined,
      7,
      'x',
      [],
      { tenant: 1 },
      { ...config(), ruleVersion: '5' },
      { ...config(), cell: 3 },
    ]) {
      expect(validator.validate(junk as never)).toMatchObject({
        ok: false,
        code: 'INVALID_ARGUMENT',
      });
    }
  });
});
