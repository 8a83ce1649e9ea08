import { describe, expect, test } from 'bun:test';
import { pack } from 'msgpackr';
import { RuleApplier, RuleStore } from '../../src/rules/index.ts';
import { targetRole } from '../../src/validation/index.ts';
import { jsonBytes, largeRuleSet, ruleSet } from '../helpers/rule-sets.ts';

const NOW = Date.parse('2026-11-23T12:00:00Z');

function setup(historySize = 3, limits = { maxBytes: 1 << 20, maxDepth: 16 }) {
  const store = new RuleStore(historySize);
  const applier = new RuleApplier(store, { limits, now: () => NOW });
  const apply = (doc: unknown, tenant = 'acme') =>
    applier.apply({ tenant, bytes: doc instanceof Uint8Array ? doc : jsonBytes(doc) });
  return { store, applier, apply };
}

describe('RuleApplier refuses invalid rule sets with a code and a JSON pointer', () => {
  const base = ruleSet('acme', 2);
  const cases: Array<[string, unknown, string, string]> = [
    ['an array', [base], 'SCHEMA', ''],
    ['a missing version', { ...base, version: undefined }, 'SCHEMA', '/version'],
    ['version zero', { ...base, version: 0 }, 'SCHEMA', '/version'],
    ['a fractional version', { ...base, version: 2.5 }, 'SCHEMA', '/version'],
    ['a version beyond 2^53', { ...base, version: 2 ** 60 }, 'SCHEMA', '/version'],
    ['an unknown top-level field', { ...base, owner: 'bob' }, 'SCHEMA', '/owner'],
    [
      'an unknown model field',
      { ...base, models: [{ ...base.models[0], gpu: 'a100' }, base.models[1]] },
      'SCHEMA',
      '/models/0/gpu',
    ],
    ['a bad issuedAt', { ...base, issuedAt: 'yesterday' }, 'SCHEMA', '/issuedAt'],
    ['a tenant with a slash', { ...base, tenant: 'a/b' }, 'SCHEMA', '/tenant'],
    [
      'a duplicate model id',
      { ...base, models: [base.models[0], base.models[0]] },
      'DUPLICATE_ID',
      '/models/1/id',
    ],
    [
      'a duplicate objective id',
      { ...base, objectives: [base.objectives[0], base.objectives[0]] },
      'DUPLICATE_ID',
      '/objectives/1/id',
    ],
    ['a missing schema', { ...base, schemas: [] }, 'DANGLING_REFERENCE', '/models/0/schemaId'],
    [
      'a missing default model',
      { ...base, objectives: [{ id: 'o', defaultModel: 'nope' }] },
      'DANGLING_REFERENCE',
      '/objectives/0/defaultModel',
    ],
    [
      'a missing cell model',
      {
        ...base,
        objectives: [
          { id: 'o', defaultModel: 'llama-8b', cells: [{ id: 'A', model: 'nope', percent: 100 }] },
        ],
      },
      'DANGLING_REFERENCE',
      '/objectives/0/cells/0/model',
    ],
    [
      'a missing shadow model',
      { ...base, objectives: [{ id: 'o', defaultModel: 'llama-8b', shadow: ['nope'] }] },
      'DANGLING_REFERENCE',
      '/objectives/0/shadow/0',
    ],
    [
      'an adapter of a model that is not in the set',
      {
        ...base,
        models: [
          base.models[0],
          { ...base.models[1], served: { adapterOf: 'nope', source: '/adapters/a' } },
        ],
      },
      'DANGLING_REFERENCE',
      '/models/1/served/adapterOf',
    ],
    [
      'an adapter of itself',
      {
        ...base,
        models: [
          base.models[0],
          { ...base.models[1], served: { adapterOf: base.models[1]?.id, source: '/a' } },
        ],
      },
      'DANGLING_REFERENCE',
      '/models/1/served/adapterOf',
    ],
    [
      'an adapter of an adapter',
      {
        ...base,
        models: [
          { ...base.models[0], served: { adapterOf: base.models[1]?.id, source: '/a' } },
          { ...base.models[1], served: { adapterOf: base.models[0]?.id, source: '/b' } },
        ],
      },
      'DANGLING_REFERENCE',
      '/models/0/served/adapterOf',
    ],
    [
      'an adapter without its source',
      {
        ...base,
        models: [base.models[0], { ...base.models[1], served: { adapterOf: base.models[0]?.id } }],
      },
      'SCHEMA',
      '/models/1/served',
    ],
    [
      'cells not adding to 100',
      {
        ...base,
        objectives: [
          {
            id: 'o',
            defaultModel: 'llama-8b',
            cells: [{ id: 'A', model: 'llama-8b', percent: 60 }],
          },
        ],
      },
      'BAD_ALLOCATION',
      '/objectives/0/cells',
    ],
    [
      'canaries over 100',
      {
        ...base,
        objectives: [
          {
            id: 'o',
            defaultModel: 'llama-8b',
            canary: [
              { model: 'qwen-7b', percent: 70 },
              { model: 'llama-8b', percent: 40 },
            ],
          },
        ],
      },
      'BAD_ALLOCATION',
      '/objectives/0/canary',
    ],
    [
      'a routingKey on two clusters',
      {
        ...base,
        models: [
          base.models[0],
          { ...base.models[1], routingKey: base.models[0]?.routingKey, cluster: 'other' },
        ],
      },
      'ROUTING_CONFLICT',
      '/models/1/routingKey',
    ],
    [
      'a payload schema that does not compile',
      { ...base, schemas: [{ id: 'chat/v1', schema: { type: 'nonsense' } }] },
      'INVALID_PAYLOAD_SCHEMA',
      '/schemas/0/schema/type',
    ],
    [
      'a payload schema whose keyword Ajv refuses to compile',
      { ...base, schemas: [{ id: 'chat/v1', schema: { $ref: '#/definitions/missing' } }] },
      'INVALID_PAYLOAD_SCHEMA',
      '/schemas/0/schema',
    ],
    [
      'a payload schema in another dialect',
      {
        ...base,
        schemas: [
          {
            id: 'chat/v1',
            schema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object' },
          },
        ],
      },
      'INVALID_PAYLOAD_SCHEMA',
      '/schemas/0/schema/$schema',
    ],
    [
      'a tensor keyword with an unknown dtype',
      {
        ...base,
        schemas: [{ id: 'chat/v1', schema: { tensor: { dtype: 'float128', shape: [1] } } }],
      },
      'INVALID_PAYLOAD_SCHEMA',
      '/schemas/0/schema',
    ],
    [
      'a payload schema nested too deep',
      {
        ...base,
        schemas: [
          { id: 'chat/v1', schema: JSON.parse(`${'{"not":'.repeat(20)}{}${'}'.repeat(20)}`) },
        ],
      },
      'TOO_DEEP',
      expect.stringMatching(/^\/schemas\/0\/schema(\/not)+$/) as unknown as string,
    ],
    [
      'an expiry before issue',
      { ...base, expiresAt: '2026-10-01T00:00:00Z' },
      'SCHEMA',
      '/expiresAt',
    ],
    [
      'an expired set',
      { ...base, issuedAt: '2026-11-01T00:00:00Z', expiresAt: '2026-11-02T00:00:00Z' },
      'EXPIRED',
      '/expiresAt',
    ],
    ['another tenant', ruleSet('globex', 2), 'TENANT_MISMATCH', '/tenant'],
    [
      'a set issued in the year 9999',
      { ...base, issuedAt: '9999-12-31T00:00:00Z' },
      'ISSUED_IN_FUTURE',
      '/issuedAt',
    ],
    [
      'a set issued just beyond the default 5-minute skew allowance',
      { ...base, issuedAt: new Date(NOW + 300_001).toISOString() },
      'ISSUED_IN_FUTURE',
      '/issuedAt',
    ],
  ];
  for (const [name, doc, code, path] of cases) {
    test(name, () => {
      const { store, apply } = setup();
      const outcome = apply(doc);
      expect(outcome.status).toBe('rejected');
      if (outcome.status !== 'rejected') return;
      expect(outcome.rejection).toMatchObject({ code, path });
      expect(outcome.rejection.message.length).toBeGreaterThan(10);
      expect(store.active('acme')).toBeUndefined();
    });
  }
});

describe('RuleApplier clock skew', () => {
  test('a set issued ahead of this host, within the allowance, is applied', () => {
    const { apply } = setup();
    const doc = { ...ruleSet('acme', 2), issuedAt: new Date(NOW + 299_000).toISOString() };
    expect(apply(doc).status).toBe('applied');
  });

  test('the allowance is configurable, and the refusal names the setting', () => {
    const store = new RuleStore(3);
    const applier = new RuleApplier(store, {
      limits: { maxBytes: 1 << 20, maxDepth: 16 },
      now: () => NOW,
      maxClockSkewMs: 0,
    });
    const ahead = { ...ruleSet('acme', 2), issuedAt: new Date(NOW + 1000).toISOString() };
    const outcome = applier.apply({ tenant: 'acme', bytes: jsonBytes(ahead) });
    expect(outcome).toMatchObject({ status: 'rejected', rejection: { code: 'ISSUED_IN_FUTURE' } });
    if (outcome.status === 'rejected')
      expect(outcome.rejection.message).toContain('rules.max_clock_skew_seconds');
    expect(store.active('acme')).toBeUndefined();
  });
});

describe('RuleApplier versions', () => {
  test('applies increasing versions and keeps the last few, newest first', () => {
    const { store, apply } = setup(3);
    for (const v of [1, 2, 5, 9]) expect(apply(ruleSet('acme', v)).status).toBe('applied');
    expect(store.active('acme')?.version).toBe(9);
    expect(store.get('acme')?.history.map((r) => r.version)).toEqual([9, 5, 2]);
    expect(store.version('acme', 5)?.version).toBe(5);
    expect(store.version('acme', 1)).toBeUndefined();
  });

  test('refuses a rollback and keeps the active version', () => {
    const { store, apply } = setup();
    apply(ruleSet('acme', 4));
    const outcome = apply(ruleSet('acme', 3));
    expect(outcome).toMatchObject({
      status: 'rejected',
      version: 3,
      activeVersion: 4,
      rejection: { code: 'VERSION_REGRESSION' },
    });
    expect(store.active('acme')?.version).toBe(4);
  });

  test('treats the same version again as a no-op, in either encoding', () => {
    const { store, apply } = setup();
    const first = apply(ruleSet('acme', 4));
    const active = store.active('acme');
    expect(apply(ruleSet('acme', 4))).toMatchObject({ status: 'unchanged', version: 4 });
    expect(apply(pack(ruleSet('acme', 4)))).toMatchObject({ status: 'unchanged', version: 4 });
    expect(store.active('acme')).toBe(active);
    expect(first.status).toBe('applied');
  });

  test('refuses the same version with different content', () => {
    const { apply } = setup();
    apply(ruleSet('acme', 4));
    expect(apply(ruleSet('acme', 4, { description: 'changed' }))).toMatchObject({
      status: 'rejected',
      rejection: { code: 'VERSION_CONFLICT' },
    });
  });

  test('refuses versions below a remembered high-water mark even with no rules loaded', () => {
    const { store, apply } = setup();
    store.raiseHighWater('acme', 10);
    expect(apply(ruleSet('acme', 9))).toMatchObject({
      status: 'rejected',
      rejection: { code: 'VERSION_REGRESSION' },
    });
    expect(apply(ruleSet('acme', 10)).status).toBe('applied');
  });

  test('a rejected set never replaces the active one', () => {
    const { store, apply } = setup();
    apply(ruleSet('acme', 1));
    const before = store.get('acme');
    apply({ ...ruleSet('acme', 2), objectives: [{ id: 'x', defaultModel: 'missing' }] });
    expect(store.get('acme')).toBe(before);
  });
});

describe('RuleStore and compiled rule sets', () => {
  test('a reader holding a snapshot keeps one consistent version while a newer one is installed', () => {
    const { store, apply } = setup();
    apply(ruleSet('acme', 1));
    const snapshot = store.get('acme');
    apply(
      ruleSet('acme', 2, {
        models: [
          ...ruleSet('acme', 2).models,
          {
            id: 'new',
            version: '1',
            routingKey: 'acme.new',
            cluster: 'gpu-east',
            schemaId: 'chat/v1',
          },
        ],
      }),
    );
    expect(snapshot?.active.version).toBe(1);
    expect(snapshot?.active.models.has('new')).toBe(false);
    expect(store.active('acme')?.models.has('new')).toBe(true);
    expect(Object.isFrozen(snapshot)).toBe(true);
  });

  test('notifies listeners after each install', () => {
    const { store, apply } = setup();
    const seen: number[] = [];
    store.onChange((rules) => seen.push(rules.active.version));
    apply(ruleSet('acme', 1));
    apply(ruleSet('acme', 1));
    apply(ruleSet('acme', 2));
    expect(seen).toEqual([1, 2]);
  });

  test('compiles lookup maps and objective targets', () => {
    const { store, apply } = setup();
    apply(
      ruleSet('acme', 1, {
        objectives: [
          { id: 'chat', defaultModel: 'llama-8b', canary: [{ model: 'qwen-7b', percent: 5 }] },
        ],
      }),
    );
    const rules = store.active('acme');
    const chat = rules?.objectives.get('chat');
    expect(chat && targetRole(chat, 'llama-8b')).toBe('default');
    expect(chat && targetRole(chat, 'qwen-7b')).toBe('canary');
    expect(chat && targetRole(chat, 'mistral')).toBeNull();
    expect(rules?.routingKeys.get('acme.qwen-7b')).toBe('gpu-east');
    expect(rules?.payloadSchemas.get('chat/v1')?.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(rules?.payloadSchemas.get('chat/v1')?.validate({ messages: [] })).toBe(true);
    expect(rules?.payloadSchemas.get('chat/v1')?.validate({})).toBe(false);
  });

  test('reuses compiled payload validators across versions with the same schema', () => {
    const { store, apply } = setup();
    apply(ruleSet('acme', 1));
    const v1 = store.active('acme')?.payloadSchemas.get('chat/v1')?.validate;
    apply(ruleSet('acme', 2));
    expect(store.active('acme')?.payloadSchemas.get('chat/v1')?.validate).toBe(
      v1 as NonNullable<typeof v1>,
    );
  });

  test('compiles a set of 10,000 objectives', () => {
    const { store, apply } = setup(1, { maxBytes: 8 << 20, maxDepth: 16 });
    expect(apply(largeRuleSet('acme', 1, 10_000)).status).toBe('applied');
    expect(store.active('acme')?.objectives.size).toBe(10_000);
  });
});
