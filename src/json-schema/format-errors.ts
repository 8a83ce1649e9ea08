import type { ErrorObject } from 'ajv';
import { joinPointer } from '../codec/index.ts';

/** One schema violation: where it is (a JSON pointer), which rule it broke, and what it found. */
export interface SchemaViolation {
  /** JSON pointer to the offending value, `""` for the document itself. */
  path: string;
  /** The schema keyword that failed, e.g. `required`, `additionalProperties`, `type`. */
  rule: string;
  /** A sentence naming the problem and the value found. */
  message: string;
}

/**
 * Turns Ajv errors into {@linkcode SchemaViolation}s whose message names the value that was
 * found, e.g. `unknown field "colour"` or `must be integer (got "7")`.
 */
export function toViolations(
  errors: readonly ErrorObject[] | null | undefined,
  root: unknown,
): SchemaViolation[] {
  return (errors ?? []).map((error) => toViolation(error, root));
}

function toViolation(error: ErrorObject, root: unknown): SchemaViolation {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const field = String(params.additionalProperty);
      return {
        path: joinPointer(error.instancePath, field),
        rule: 'additionalProperties',
        message: `unknown field "${field}"`,
      };
    }
    case 'required': {
      const field = String(params.missingProperty);
      return {
        path: joinPointer(error.instancePath, field),
        rule: 'required',
        message: `missing required field "${field}"`,
      };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ');
      return {
        path: error.instancePath,
        rule: 'enum',
        message: `must be one of ${allowed} (got ${describeValue(valueAt(root, error.instancePath))})`,
      };
    }
    default: {
      const got = describeValue(valueAt(root, error.instancePath));
      return {
        path: error.instancePath,
        rule: error.keyword,
        message: `${error.message ?? 'is invalid'} (got ${got})`,
      };
    }
  }
}

function valueAt(root: unknown, pointer: string): unknown {
  if (pointer === '') return root;
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** A short, single-line rendering of a value for error messages (long values are cut). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value !== null && typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Renders a violation as `path: message` (`(root)` for the document itself). */
export function formatViolation(v: SchemaViolation): string {
  return `${v.path === '' ? '(root)' : v.path}: ${v.message} [${v.rule}]`;
}
