import type { Ajv, ErrorObject, SchemaValidateFunction } from 'ajv';

/** Element types a `tensor` may declare, with their size in bytes. */
export const TENSOR_DTYPES: Readonly<Record<string, number>> = Object.freeze({
  bool: 1,
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  uint64: 8,
  float16: 2,
  bfloat16: 2,
  float32: 4,
  float64: 8,
});

/** The `tensor` keyword's value in a payload schema. */
export interface TensorSpec {
  /** One of {@linkcode TENSOR_DTYPES}. */
  readonly dtype: string;
  /** Expected shape; `-1` matches any size in that dimension. */
  readonly shape: readonly number[];
}

const INTEGER_RANGE: Readonly<Record<string, [number, number]>> = {
  bool: [0, 1],
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  int64: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

/**
 * Adds the `tensor` keyword to an Ajv instance. A schema `{"tensor": {"dtype": "float32",
 * "shape": [-1, 768]}}` accepts an object `{dtype, shape, data}` whose dtype matches, whose
 * shape has the same rank and matches every fixed dimension, and whose `data` holds exactly
 * `product(shape)` elements: a flat array of numbers (integers in range for integer dtypes), or
 * raw little-endian bytes (a MessagePack bin, or base64 text in JSON) of `product(shape) ·
 * itemsize` bytes.
 */
export function addTensorKeyword(ajv: Ajv): void {
  ajv.addKeyword({
    keyword: 'tensor',
    type: 'object',
    schemaType: 'object',
    errors: true,
    metaSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['dtype', 'shape'],
      properties: {
        dtype: { enum: Object.keys(TENSOR_DTYPES) },
        shape: { type: 'array', maxItems: 16, items: { type: 'integer', minimum: -1 } },
      },
    },
    compile(spec: TensorSpec) {
      const validate: SchemaValidateFunction = (data: unknown, ctx) => {
        const problem = checkTensor(spec, data as Record<string, unknown>);
        if (problem === null) return true;
        const error: Partial<ErrorObject> = {
          keyword: 'tensor',
          instancePath: `${ctx?.instancePath ?? ''}${problem.at}`,
          message: problem.message,
          params: { dtype: spec.dtype, shape: spec.shape },
        };
        validate.errors = [error];
        return false;
      };
      return validate;
    },
  });
}

/** Why a value is not the tensor `spec` describes (`at` is a JSON pointer suffix), or `null`. */
export function checkTensor(
  spec: TensorSpec,
  value: Record<string, unknown>,
): { at: string; message: string } | null {
  if (value.dtype !== spec.dtype)
    return {
      at: '/dtype',
      message: `dtype must be ${spec.dtype} (got ${JSON.stringify(value.dtype) ?? 'nothing'})`,
    };
  const shape = value.shape;
  if (!Array.isArray(shape) || shape.length !== spec.shape.length) {
    return {
      at: '/shape',
      message: `shape must have ${spec.shape.length} dimensions (got ${Array.isArray(shape) ? shape.length : 'none'})`,
    };
  }
  let count = 1;
  for (let i = 0; i < shape.length; i++) {
    const size = shape[i];
    const want = spec.shape[i] as number;
    if (!Number.isSafeInteger(size) || (size as number) < 0)
      return { at: `/shape/${i}`, message: `dimension ${i} must be a non-negative integer` };
    if (want !== -1 && size !== want)
      return { at: `/shape/${i}`, message: `dimension ${i} must be ${want} (got ${size})` };
    count *= size as number;
  }
  const data = value.data;
  const itemSize = TENSOR_DTYPES[spec.dtype] as number;
  if (data instanceof Uint8Array) {
    return data.byteLength === count * itemSize
      ? null
      : {
          at: '/data',
          message: `data must be ${count * itemSize} bytes for shape [${shape.join(', ')}] (got ${data.byteLength})`,
        };
  }
  if (typeof data === 'string') {
    const bytes = base64Length(data);
    if (bytes === null) return { at: '/data', message: 'data string is not base64' };
    return bytes === count * itemSize
      ? null
      : {
          at: '/data',
          message: `data must be ${count * itemSize} bytes for shape [${shape.join(', ')}] (got ${bytes})`,
        };
  }
  if (!Array.isArray(data))
    return { at: '/data', message: 'data must be an array of numbers, bytes, or base64 text' };
  if (data.length !== count)
    return {
      at: '/data',
      message: `data must hold ${count} elements for shape [${shape.join(', ')}] (got ${data.length})`,
    };
  const range = INTEGER_RANGE[spec.dtype];
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (typeof x !== 'number' && !(spec.dtype === 'bool' && typeof x === 'boolean'))
      return { at: `/data/${i}`, message: 'must be a number' };
    if (range && typeof x === 'number' && (!Number.isInteger(x) || x < range[0] || x > range[1])) {
      return { at: `/data/${i}`, message: `${x} is not a valid ${spec.dtype}` };
    }
  }
  return null;
}

function base64Length(text: string): number | null {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return (text.length / 4) * 3 - padding;
}
