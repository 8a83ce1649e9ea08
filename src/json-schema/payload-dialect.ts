import type { ValidateFunction } from 'ajv';
import { validate as generatedValidate } from './draft-07.validator.generated.ts';
import { type SchemaViolation, toViolations } from './format-errors.ts';

/** The JSON Schema dialect of payload schemas: the one Ajv's default class compiles. */
export const PAYLOAD_SCHEMA_DIALECT = 'http://json-schema.org/draft-07/schema#';

/** The draft-07 meta-schema, compiled at build time (build/generate-validators.ts). */
const validateAgainstMetaSchema = generatedValidate as unknown as ValidateFunction;

/**
 * Checks a payload schema against the draft-07 meta-schema, as Ajv's `validateSchema` option
 * would, but without compiling the meta-schema at run time (≈ 40 ms in the binary). Returns the
 * first violation (its path relative to the schema), or `null` when the schema is well-formed.
 * A `$schema` naming another dialect is a violation: its keywords would be misread (draft-07 may
 * be named with `http:` or `https:`, with or without the closing `#`).
 */
export function payloadSchemaViolation(schema: unknown): SchemaViolation | null {
  const dialect = (schema as { $schema?: unknown } | null)?.$schema;
  if (
    dialect !== undefined &&
    String(dialect)
      .replace(/^https:/, 'http:')
      .replace(/#?$/, '#') !== PAYLOAD_SCHEMA_DIALECT
  )
    return {
      path: '/$schema',
      rule: 'dialect',
      message: `only JSON Schema draft-07 is supported (got ${JSON.stringify(dialect)})`,
    };
  if (validateAgainstMetaSchema(schema)) return null;
  const [first] = toViolations(validateAgainstMetaSchema.errors, schema);
  return first ?? { path: '', rule: 'schema', message: 'is not a valid JSON Schema' };
}
