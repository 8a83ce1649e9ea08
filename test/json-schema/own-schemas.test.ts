import { describe, expect, test } from 'bun:test';
import configSchema from '../../src/config/config.schema.json';
import ackSchema from '../../src/follower/ack.schema.json';
import { createAjv } from '../../src/json-schema/index.ts';
import ruleSetSchema from '../../src/rules/rule-set.schema.json';
import reportSchema from '../../src/saturation/report.schema.json';

// The sources compile these with OWN_SCHEMA_OPTIONS (no meta-schema check at start-up), so the
// check happens here, once, in strict mode.
describe("filament's own JSON Schemas", () => {
  const schemas = { configSchema, ruleSetSchema, reportSchema, ackSchema };
  for (const [name, schema] of Object.entries(schemas)) {
    test(`${name} is a valid schema and compiles in strict mode`, () => {
      const ajv = createAjv();
      expect(ajv.validateSchema(schema)).toBe(true);
      expect(ajv.errors ?? null).toBeNull();
      expect(() => ajv.compile(schema)).not.toThrow();
    });
  }

  test('a broken schema is caught by this check', () => {
    expect(createAjv().validateSchema({ type: 'objekt' })).toBe(false);
  });
});
