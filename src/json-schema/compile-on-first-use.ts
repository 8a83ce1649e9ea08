import type { ValidateFunction } from 'ajv';

/**
 * Defers an Ajv compile (tens of ms for a large schema) from module load to the first
 * validation, so commands and start-up paths that never validate that document do not pay
 * for it. Returns the getter of the compiled function.
 */
export function compileOnFirstUse<T>(
  compile: () => ValidateFunction<T>,
): () => ValidateFunction<T> {
  let compiled: ValidateFunction<T> | null = null;
  return () => {
    compiled ??= compile();
    return compiled;
  };
}
