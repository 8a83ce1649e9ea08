import { describe, expect, test } from 'bun:test';
import { jsonEqual } from '../../src/codec/index.ts';
import { applyRuleDelta, DELTA_KIND, type RuleSet } from '../../src/rules/index.ts';
import { ruleSet } from '../helpers/rule-sets.ts';

/** v5 whose payload schema holds `minimum: -0` (as JSON.parse gives it for `-0`) and an object. */
const base = ruleSet('acme', 5, {
  schemas: [
    {
      id: 'chat/v1',
      schema: JSON.parse('{"type":"number","minimum":-0,"examples":[{"a":2,"b":1}]}'),
    },
  ],
}) as RuleSet;

function testOp(path: string, value: unknown) {
  return applyRuleDelta(base, {
    kind: DELTA_KIND,
    tenant: 'acme',
    base: 5,
    version: 6,
    digest: 'sha256:unused',
    patch: [
      { op: 'test', path, value },
      { op: 'replace', path: '/version', value: 6 },
    ],
  });
}

describe('RFC 6902 test: JSON equality, not JavaScript identity', () => {
  test('0 and -0 are numerically equal, so the test passes (either way round)', () => {
    expect(
      Object.is(
        base.schemas?.[0]?.schema && (base.schemas[0].schema as { minimum: number }).minimum,
        -0,
      ),
    ).toBe(true);
    expect(testOp('/schemas/0/schema/minimum', 0).ok).toBe(true);
    expect(testOp('/schemas/0/schema/minimum', -0).ok).toBe(true);
    expect(testOp('/schemas/0/schema/minimum', 0.0001)).toMatchObject({
      ok: false,
      rejection: { code: 'BAD_PATCH', message: expect.stringContaining('the value differs') },
    });
  });

  test('objects are equal with their members in any order; arrays only in order', () => {
    expect(testOp('/schemas/0/schema/examples', [{ b: 1, a: 2 }]).ok).toBe(true);
    expect(testOp('/schemas/0/schema/examples', [{ a: 2 }]).ok).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual({ a: [0] }, { a: [-0] })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(jsonEqual('1', 1)).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
  });
});
