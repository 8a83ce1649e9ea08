import { describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import configSchema from '../../src/config/config.schema.json';
import { payloadSchemaViolation } from '../../src/json-schema/index.ts';
import reportSchema from '../../src/report/report.schema.json';
import ackSchema from '../../src/rule-stream/ack.schema.json';
import ruleSetSchema from '../../src/rules/rule-set.schema.json';
import { createAjv } from '../../src/schema-compiler/index.ts';

const ROOT = join(import.meta.dir, '..', '..');

// The sources use validators generated from these at build time (build/generate-validators.ts,
// with OWN_SCHEMA_OPTIONS: no meta-schema check), so the check happens here, once, in strict mode.
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

  test('match their generated validators (run bun build/generate-validators.ts after editing one)', () => {
    const check = spawnSync(
      process.execPath,
      [join(ROOT, 'build/generate-validators.ts'), '--check'],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });
});

describe('payload schemas against the draft-07 meta-schema, without Ajv compiling it', () => {
  const ajv = createAjv({ strict: false });
  const cases: Array<[string, unknown]> = [
    ['an empty schema', {}],
    ['a boolean schema', true],
    ['nested properties', { type: 'object', properties: { a: { type: ['string', 'null'] } } }],
    ['a bad type', { type: 'objekt' }],
    ['a negative minLength', { type: 'string', minLength: -1 }],
    ['a non-array required', { required: 'a' }],
    ['a bad nested schema', { items: { enum: 3 } }],
    ['a number', 5],
  ];
  for (const [name, schema] of cases)
    test(`agrees with Ajv's own validateSchema: ${name}`, () => {
      const ajvSays = ajv.validateSchema(schema as object) as boolean;
      expect(payloadSchemaViolation(schema) === null).toBe(ajvSays);
    });

  test('names where the problem is', () => {
    expect(payloadSchemaViolation({ properties: { a: { minimum: 'x' } } })?.path).toBe(
      '/properties/a/minimum',
    );
  });

  test('refuses another dialect and accepts draft-07 spelled either way', () => {
    expect(
      payloadSchemaViolation({ $schema: 'https://json-schema.org/draft/2020-12/schema' })?.rule,
    ).toBe('dialect');
    expect(
      payloadSchemaViolation({ $schema: 'http://json-schema.org/draft-07/schema#' }),
    ).toBeNull();
    expect(
      payloadSchemaViolation({ $schema: 'http://json-schema.org/draft-07/schema' }),
    ).toBeNull();
  });
});
