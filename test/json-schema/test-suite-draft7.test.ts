/**
 * The official JSON-Schema-Test-Suite (draft-07 cases, test/fixtures/json-schema-test-suite) run
 * through the real path a payload takes: each group's schema is a payload schema of a rule set
 * applied by RuleApplier, and each test's data is a request payload (JSON bytes) judged by
 * RequestValidator — `valid: true` must be OK, `valid: false` PAYLOAD_INVALID.
 *
 * One divergence, on purpose (docs/validation.md): the keys `__proto__`, `constructor` and
 * `prototype` are refused anywhere in untrusted documents before any schema sees them — a rule set
 * whose schema has one is NACKed (FORBIDDEN_KEY), a payload holding one is PAYLOAD_UNDECODABLE.
 */
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FORBIDDEN_KEYS } from '../../src/codec/index.ts';
import { StaticModelInventory } from '../../src/inventory/index.ts';
import { RuleApplier, RuleStore } from '../../src/rules/index.ts';
import { RequestValidator } from '../../src/validation/index.ts';

interface Group {
  file: string;
  description: string;
  schema: unknown;
  tests: Array<{ data: unknown; valid: boolean }>;
}

const groups = JSON.parse(
  readFileSync(
    join(import.meta.dir, '..', 'fixtures', 'json-schema-test-suite', 'draft7.json'),
    'utf8',
  ),
) as Group[];

/** True when `value` has a forbidden key anywhere (as an object key). */
function hasForbiddenKey(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(hasForbiddenKey);
  return Object.keys(value).some(
    (k) => FORBIDDEN_KEYS.has(k) || hasForbiddenKey((value as Record<string, unknown>)[k]),
  );
}

const encoder = new TextEncoder();

function hostWith(schema: unknown) {
  const store = new RuleStore(2);
  const applier = new RuleApplier(store, {
    limits: { maxBytes: 1 << 20, maxDepth: 32 },
    now: () => Date.parse('2026-11-23T00:00:00Z'),
  });
  const set = {
    tenant: 'suite',
    version: 1,
    issuedAt: '2026-11-01T00:00:00Z',
    schemas: [{ id: 'suite/v1', schema }],
    models: [
      { id: 'm', version: '1', routingKey: 'suite.m', cluster: 'gpu-east', schemaId: 'suite/v1' },
    ],
    objectives: [{ id: 'o', defaultModel: 'm', payloadValidation: 'always' }],
  };
  const outcome = applier.apply({ tenant: 'suite', bytes: encoder.encode(JSON.stringify(set)) });
  const validator = new RequestValidator({
    store,
    models: new StaticModelInventory([{ id: 'm', version: '1', ready: true }]),
    cluster: 'gpu-east',
    payloadLimits: { maxBytes: 1 << 20, maxDepth: 32 },
  });
  const judge = (data: unknown) =>
    validator.validate(
      {
        tenant: 'suite',
        objective: 'o',
        model: 'm',
        modelVersion: '1',
        ruleVersion: 1,
        schemaId: 'suite/v1',
        routingKey: 'suite.m',
      },
      { bytes: encoder.encode(JSON.stringify(data)), contentType: 'application/json' },
    );
  return { outcome, judge };
}

/**
 * Groups whose schema filament refuses (the rule set is NACKed, so no request is ever judged by
 * it), with the refusal, documented in docs/validation.md: Ajv collects `$id`s inside keywords it
 * does not know, so three equal ones are one identifier defined three times.
 */
const REFUSED: Record<string, string> = {
  'unknownKeyword.json: $id inside an unknown keyword is not a real identifier':
    'payload schema "suite/v1" does not compile: reference "https://localhost:1234/my_identifier.json" resolves to more than one schema',
};

describe('JSON-Schema-Test-Suite draft-07, through rule set → RequestValidator', () => {
  for (const group of groups)
    test(`${group.file}: ${group.description}`, () => {
      const { outcome, judge } = hostWith(group.schema);
      const refusal = REFUSED[`${group.file}: ${group.description}`];
      if (refusal !== undefined) {
        expect(outcome).toMatchObject({
          status: 'rejected',
          rejection: { code: 'INVALID_PAYLOAD_SCHEMA', message: refusal },
        });
        return;
      }
      if (hasForbiddenKey(group.schema)) {
        expect(outcome).toMatchObject({ status: 'rejected', rejection: { code: 'FORBIDDEN_KEY' } });
        return;
      }
      if (outcome.status !== 'applied')
        throw new Error(`rule set refused: ${JSON.stringify(outcome)}`);
      const got = group.tests.map((t) => {
        const verdict = judge(t.data);
        return verdict.ok ? 'OK' : verdict.code;
      });
      const expected = group.tests.map((t) =>
        hasForbiddenKey(t.data) ? 'PAYLOAD_UNDECODABLE' : t.valid ? 'OK' : 'PAYLOAD_INVALID',
      );
      expect(got).toEqual(expected);
    });

  test('the suite file holds the groups SOURCES.md names', () => {
    const files = new Set(groups.map((g) => g.file));
    expect([...files].sort()).toEqual([
      'additionalItems.json',
      'allOf.json',
      'anyOf.json',
      'const.json',
      'contains.json',
      'default.json',
      'dependencies.json',
      'enum.json',
      'exclusiveMaximum.json',
      'exclusiveMinimum.json',
      'if-then-else.json',
      'items.json',
      'maxProperties.json',
      'maximum.json',
      'minLength.json',
      'multipleOf.json',
      'not.json',
      'oneOf.json',
      'properties.json',
      'propertyNames.json',
      'prototype-safe.json',
      'ref.json',
      'required.json',
      'type.json',
      'uniqueItems.json',
      'unknownKeyword.json',
    ]);
    expect(groups.length).toBe(188);
    expect(groups.reduce((n, g) => n + g.tests.length, 0)).toBe(725);
  });
});
