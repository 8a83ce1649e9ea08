/**
 * JSON Schema results in filament's words, without the Ajv compiler: violations as JSON pointer +
 * rule + value found (for the config, RuleSet and report contracts, whose validators are compiled
 * at build time), and the draft-07 check that payload schemas must pass before they are compiled.
 * @module
 */

export { asDraft07 } from './draft-07-refs.ts';
export {
  describeValue,
  formatViolation,
  type SchemaViolation,
  toViolations,
} from './format-errors.ts';
export { isMultipleOf } from './multiple-of.ts';
export { PAYLOAD_SCHEMA_DIALECT, payloadSchemaViolation } from './payload-dialect.ts';
