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

describe('JSON-Schema-Test-Suite draft-07, through rule set → RequestValidator', () => {
  for (const group of groups)
    test(`${group.file}: ${group.description}`, () => {
      const { outcome, judge } = hostWith(group.schema);
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
      'enum.json',
      'if-then-else.json',
      'properties.json',
      'prototype-safe.json',
      'ref.json',
      'required.json',
    ]);
    expect(groups.reduce((n, g) => n + g.tests.length, 0)).toBe(234);
  });
});
