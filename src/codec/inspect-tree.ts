import { type DecodeResult, decodeFailure, FORBIDDEN_KEYS } from './decode-result.ts';
import { joinPointer } from './json-pointer.ts';

/**
 * Walks an already-decoded value without recursion and refuses forbidden keys and nesting
 * deeper than `maxDepth`, and with `checkStrings` strings (keys and values) that are not well
 * formed (a lone surrogate). Returns `null` when the value is acceptable.
 * The walk stops descending past `maxDepth`, so it is safe on arbitrarily deep input.
 */
export function inspectTree(
  root: unknown,
  maxDepth: number,
  basePath = '',
  checkStrings = false,
): DecodeResult | null {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [
    { value: root, path: basePath, depth: 1 },
  ];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop() as { value: unknown; path: string; depth: number };
    if (checkStrings && typeof value === 'string' && !value.isWellFormed()) return illFormed(path);
    if (value === null || typeof value !== 'object') continue;
    if (depth > maxDepth)
      return decodeFailure('TOO_DEEP', path, `nesting deeper than ${maxDepth} levels`);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++)
        stack.push({ value: value[i], path: joinPointer(path, i), depth: depth + 1 });
      continue;
    }
    for (const key of Object.keys(value)) {
      if (checkStrings && !key.isWellFormed())
        return illFormed(joinPointer(path, key.toWellFormed()));
      if (FORBIDDEN_KEYS.has(key))
        return decodeFailure(
          'FORBIDDEN_KEY',
          joinPointer(path, key),
          `key "${key}" is not allowed`,
        );
      stack.push({
        value: (value as Record<string, unknown>)[key],
        path: joinPointer(path, key),
        depth: depth + 1,
      });
    }
  }
  return null;
}

function illFormed(path: string): DecodeResult {
  return decodeFailure(
    'ILL_FORMED_STRING',
    path,
    'string is not well formed (a lone surrogate, e.g. text cut in the middle of an emoji): it has no UTF-8 form and no canonical digest',
  );
}
