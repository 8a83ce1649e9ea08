/**
 * Compiling JSON Schemas at run time: the one Ajv factory (standard formats registered) and the
 * `tensor` keyword of payload schemas. Only rule-set compilation (payload schemas) and the build
 * (filament's own schemas, compiled ahead of time) load it.
 * @module
 */
export { createAjv, OWN_SCHEMA_OPTIONS } from './create-ajv.ts';
export { addTensorKeyword, checkTensor, TENSOR_DTYPES, type TensorSpec } from './tensor-keyword.ts';
