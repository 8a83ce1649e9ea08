import { describe, expect, test } from 'bun:test';
import { PayloadSchemaCache } from '../../src/rules/index.ts';

const compile = (cache: PayloadSchemaCache, schema: unknown) => {
  const result = cache.compile('s', schema, '/schemas/0/schema');
  if (!result.ok) throw new Error(result.rejection.message);
  return result.value.validate;
};

describe('payload schemas as draft-07 says', () => {
  test('the https spelling of the draft-07 dialect is draft-07', () => {
    const cache = new PayloadSchemaCache(32);
    for (const dialect of [
      'https://json-schema.org/draft-07/schema#',
      'https://json-schema.org/draft-07/schema',
      'http://json-schema.org/draft-07/schema#',
    ]) {
      const validate = compile(cache, { $schema: dialect, type: 'string' });
      expect([validate('a'), validate(1)]).toEqual([true, false]);
    }
    expect(
      cache.compile('s', { $schema: 'https://json-schema.org/draft/2020-12/schema' }, ''),
    ).toMatchObject({
      ok: false,
      rejection: { code: 'INVALID_PAYLOAD_SCHEMA', path: '/$schema' },
    });
  });

  test("each schema's $ids are its own: the same $id in two schemas (two tenants) never mix", () => {
    const cache = new PayloadSchemaCache(32);
    const a = compile(cache, {
      $id: 'http://example.com/item',
      definitions: { x: { type: 'string' } },
      $ref: '#/definitions/x',
    });
    const b = compile(cache, {
      $id: 'http://example.com/item',
      definitions: { x: { type: 'number' } },
      $ref: '#/definitions/x',
    });
    expect([a('s'), a(1)]).toEqual([true, false]);
    expect([b('s'), b(1)]).toEqual([false, true]);
  });

  test('a recursive schema ("$ref": "#") compiles and recurses', () => {
    const validate = compile(new PayloadSchemaCache(32), {
      type: 'object',
      properties: { child: { $ref: '#' }, name: { type: 'string' } },
      additionalProperties: false,
    });
    expect(validate({ child: { child: { name: 'x' } } })).toBe(true);
    expect(validate({ child: { child: { name: 1 } } })).toBe(false);
  });
});
