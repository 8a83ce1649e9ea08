/**
 * JSON Schema helpers shared by the config and rule-set checks: one Ajv factory and one way
 * of reporting violations (JSON pointer, rule, value found).
 * @module
 */

export { createAjv, OWN_SCHEMA_OPTIONS } from './create-ajv.ts';
export {
  describeValue,
  formatViolation,
  joinPointer,
  type SchemaViolation,
  toViolations,
} from './format-errors.ts';
export { PAYLOAD_SCHEMA_DIALECT, payloadSchemaViolation } from './payload-dialect.ts';
export { addTensorKeyword, checkTensor, TENSOR_DTYPES, type TensorSpec } from './tensor-keyword.ts';
