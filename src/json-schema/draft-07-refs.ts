/**
 * Draft-07's `$ref` rule, which Ajv 8 no longer follows: "All other properties in a `$ref` object
 * MUST be ignored" (draft-07 Core §8.3). Ajv applies them (the 2019-09 rule), so a `maxItems`
 * written beside a `$ref` would refuse payloads draft-07 accepts. Before compiling, every schema
 * object holding a `$ref` keeps only the `$ref` and its `definitions` (which other references may
 * point into); a sibling `$id` goes too, as draft-07 says it does not change the base URI. Only
 * places that hold schemas are walked (`enum`, `const`, `default` and `examples` are data).
 */

/** Keywords whose value is one schema. */
const ONE = [
  'additionalItems',
  'additionalProperties',
  'contains',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
];
/** Keywords whose value is a list of schemas. */
const LIST = ['allOf', 'anyOf', 'oneOf'];
/** Keywords whose value maps names to schemas. */
const MAP = ['properties', 'patternProperties', 'definitions'];

const DRAFT_07_HTTPS = /^https:\/\/json-schema\.org\/draft-07\/schema#?$/;

/**
 * A copy of `schema` as draft-07 reads it: `$ref` siblings dropped (but `definitions`), and the
 * `https://json-schema.org/draft-07/schema#` spelling of `$schema` written the way Ajv knows it.
 * The input is left as it is.
 */
export function asDraft07(schema: unknown): unknown {
  const out = walk(schema);
  if (isObject(out) && typeof out.$schema === 'string' && DRAFT_07_HTTPS.test(out.$schema))
    out.$schema = 'http://json-schema.org/draft-07/schema#';
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function walk(schema: unknown): unknown {
  if (!isObject(schema)) return schema;
  if (typeof schema.$ref === 'string') {
    const kept: Record<string, unknown> = { $ref: schema.$ref };
    if (isObject(schema.definitions)) kept.definitions = mapOf(schema.definitions);
    if (schema.$schema !== undefined) kept.$schema = schema.$schema;
    return kept;
  }
  const out: Record<string, unknown> = { ...schema };
  for (const key of ONE) if (key in schema) out[key] = walk(schema[key]);
  for (const key of LIST)
    if (Array.isArray(schema[key])) out[key] = (schema[key] as unknown[]).map(walk);
  for (const key of MAP)
    if (isObject(schema[key])) out[key] = mapOf(schema[key] as Record<string, unknown>);
  if (Array.isArray(schema.items)) out.items = schema.items.map(walk);
  else if ('items' in schema) out.items = walk(schema.items);
  if (isObject(schema.dependencies)) {
    const deps: Record<string, unknown> = {};
    for (const [name, dep] of Object.entries(schema.dependencies))
      deps[name] = Array.isArray(dep) ? dep : walk(dep);
    out.dependencies = deps;
  }
  return out;
}

function mapOf(schemas: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(schemas)) out[name] = walk(schema);
  return out;
}
